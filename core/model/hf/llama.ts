import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, KVCache } from '../gpt.ts';
import { embed } from '../ops.ts';
import { HFBase, HFCausalLM, type HFLoadOptions, type LinearSpec } from './base.ts';
import type { HFSpec } from './config.ts';
import { causalAttention, rmsNorm, ropeTables, rotary, swiglu } from './ops.ts';

/**
 * The Llama family (LlamaForCausalLM, Qwen2ForCausalLM, SmolLM, Mistral) under their Hugging Face
 * names: token embedding, pre-RMSNorm blocks of rotary grouped-query attention (q/k/v biases for
 * Qwen2, all four for Llama with attention_bias) and a SwiGLU MLP, final RMSNorm, head tied or
 * untied. nn.Linear weights are stored [out, in], so projections are x·Wᵀ.
 */
export class LlamaLM extends HFCausalLM {
  private readonly cos: tf.Tensor2D;
  private readonly sin: tf.Tensor2D;

  constructor(spec: HFSpec, weights: Map<string, tf.Tensor> | HFBase, opts: HFLoadOptions = {}) {
    super(spec, weights, opts);
    const { cos, sin } = ropeTables(this.config.contextLength, spec.headDim, spec.ropeTheta);
    this.cos = tf.tensor2d(cos, [this.config.contextLength, spec.headDim / 2]);
    this.sin = tf.tensor2d(sin, [this.config.contextLength, spec.headDim / 2]);
  }

  static expectedWeights(s: HFSpec): Array<{ name: string; shape: number[] }> {
    const out = [{ name: 'model.embed_tokens.weight', shape: [s.vocabSize, s.hidden] }];
    for (let l = 0; l < s.layers; l++) {
      out.push({ name: `model.layers.${l}.input_layernorm.weight`, shape: [s.hidden] });
      for (const lin of LlamaLM.layerLinears(s, l)) {
        out.push({ name: lin.name + '.weight', shape: [lin.outDim, lin.inDim] });
        if (lin.bias) out.push({ name: lin.name + '.bias', shape: [lin.outDim] });
      }
      out.push({ name: `model.layers.${l}.post_attention_layernorm.weight`, shape: [s.hidden] });
    }
    out.push({ name: 'model.norm.weight', shape: [s.hidden] });
    if (!s.tieEmbeddings) out.push({ name: 'lm_head.weight', shape: [s.vocabSize, s.hidden] });
    return out;
  }

  private static layerLinears(s: HFSpec, l: number): LinearSpec[] {
    const D = s.hidden;
    const qd = s.heads * s.headDim;
    const kvd = s.kvHeads * s.headDim;
    const a = `model.layers.${l}.self_attn.`;
    const m = `model.layers.${l}.mlp.`;
    const lin = (name: string, inDim: number, outDim: number, bias: boolean): LinearSpec => ({ name, inDim, outDim, layout: 'out_in', bias });
    return [
      lin(a + 'q_proj', D, qd, s.qkvBias), lin(a + 'k_proj', D, kvd, s.qkvBias), lin(a + 'v_proj', D, kvd, s.qkvBias),
      lin(a + 'o_proj', qd, D, s.oBias),
      lin(m + 'gate_proj', D, s.intermediate, s.mlpBias), lin(m + 'up_proj', D, s.intermediate, s.mlpBias), lin(m + 'down_proj', s.intermediate, D, s.mlpBias),
    ];
  }

  linears(): LinearSpec[] {
    return Array.from({ length: this.spec.layers }, (_, l) => LlamaLM.layerLinears(this.spec, l)).flat();
  }

  defaultTargets(): string[] {
    return ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  }

  protected embedName(): string {
    return 'model.embed_tokens.weight';
  }

  protected newOfSameKind(base: HFBase): HFCausalLM {
    return new LlamaLM(this.spec, base, { contextLength: this.config.contextLength });
  }

  protected trunk(ids: tf.Tensor2D, opts: ForwardOptions, cache?: KVCache): tf.Tensor2D {
    const { heads: H, kvHeads: KV, headDim: hd, normEps: eps } = this.spec;
    const [B, T] = ids.shape;
    const start = cache?.length ?? 0;
    const ragged = this.checkInput(B, T, cache);
    const training = opts.training ?? false;
    const drop = this.dropper(opts);
    const norm = (x: tf.Tensor2D, n: string) => rmsNorm(x, this.w(n + '.weight') as tf.Tensor1D, eps);
    const heads = (x: tf.Tensor, n: number) => tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const at = ragged && tf.tensor1d(ragged, 'int32');
    const cos = at ? tf.gather(this.cos, at) : tf.slice(this.cos, [start, 0], [T, -1]);
    const sin = at ? tf.gather(this.sin, at) : tf.slice(this.sin, [start, 0], [T, -1]);

    let x = embed(tf.reshape(ids, [B * T]) as tf.Tensor1D, this.w('model.embed_tokens.weight') as tf.Tensor2D);
    for (let l = 0; l < this.spec.layers; l++) {
      const [q, k, v, o, gate, up, down] = LlamaLM.layerLinears(this.spec, l);
      const lin = (h: tf.Tensor2D, s: LinearSpec) => this.linear(h, s, training, drop);
      const h = norm(x, `model.layers.${l}.input_layernorm`);
      const qh = rotary(heads(lin(h, q), H), cos, sin, !!ragged);
      let kh = rotary(heads(lin(h, k), KV), cos, sin, !!ragged);
      let vh = heads(lin(h, v), KV);
      // The cache holds the KV heads (rotated), before they are repeated for the query groups.
      if (cache) [kh, vh] = cache.extend(l, kh, vh, 2, 2);
      const att = causalAttention(qh, kh, vh, ragged);
      x = tf.add(x, lin(tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D, o));
      const h2 = norm(x, `model.layers.${l}.post_attention_layernorm`);
      x = tf.add(x, lin(swiglu(lin(h2, gate), lin(h2, up)), down));
    }
    return norm(x, 'model.norm');
  }

  override dispose(): void {
    super.dispose();
    this.cos.dispose();
    this.sin.dispose();
  }
}
