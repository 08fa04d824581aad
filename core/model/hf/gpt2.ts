import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, KVCache } from '../gpt.ts';
import { embed, gelu, layerNorm } from '../ops.ts';
import { HFBase, HFCausalLM, type HFLoadOptions, type LinearSpec } from './base.ts';
import type { HFSpec } from './config.ts';
import { causalAttention } from './ops.ts';

/**
 * GPT-2 (GPT2LMHeadModel) under its Hugging Face names: token + learned position embeddings,
 * pre-LN blocks (fused q/k/v projection c_attn, GELU-tanh MLP), final LayerNorm, head tied to
 * wte. Conv1D weights are stored [in, out], so projections are plain x·W + b.
 */
export class Gpt2LM extends HFCausalLM {
  constructor(spec: HFSpec, weights: Map<string, tf.Tensor> | HFBase, opts: HFLoadOptions = {}) {
    super(spec, weights, opts);
  }

  /** Tensor names and [in,out] / table shapes GPT2LMHeadModel saves. */
  static expectedWeights(s: HFSpec): Array<{ name: string; shape: number[] }> {
    const D = s.hidden;
    const F = s.intermediate;
    const out = [
      { name: 'transformer.wte.weight', shape: [s.vocabSize, D] },
      { name: 'transformer.wpe.weight', shape: [s.maxPositions, D] },
    ];
    for (let l = 0; l < s.layers; l++) {
      const p = `transformer.h.${l}.`;
      out.push(
        { name: p + 'ln_1.weight', shape: [D] }, { name: p + 'ln_1.bias', shape: [D] },
        { name: p + 'attn.c_attn.weight', shape: [D, 3 * D] }, { name: p + 'attn.c_attn.bias', shape: [3 * D] },
        { name: p + 'attn.c_proj.weight', shape: [D, D] }, { name: p + 'attn.c_proj.bias', shape: [D] },
        { name: p + 'ln_2.weight', shape: [D] }, { name: p + 'ln_2.bias', shape: [D] },
        { name: p + 'mlp.c_fc.weight', shape: [D, F] }, { name: p + 'mlp.c_fc.bias', shape: [F] },
        { name: p + 'mlp.c_proj.weight', shape: [F, D] }, { name: p + 'mlp.c_proj.bias', shape: [D] },
      );
    }
    out.push({ name: 'transformer.ln_f.weight', shape: [D] }, { name: 'transformer.ln_f.bias', shape: [D] });
    if (!s.tieEmbeddings) out.push({ name: 'lm_head.weight', shape: [s.vocabSize, D] });
    return out;
  }

  linears(): LinearSpec[] {
    const D = this.spec.hidden;
    const F = this.spec.intermediate;
    const out: LinearSpec[] = [];
    for (let l = 0; l < this.spec.layers; l++) {
      const p = `transformer.h.${l}.`;
      out.push(
        { name: p + 'attn.c_attn', inDim: D, outDim: 3 * D, layout: 'in_out', bias: true },
        { name: p + 'attn.c_proj', inDim: D, outDim: D, layout: 'in_out', bias: true },
        { name: p + 'mlp.c_fc', inDim: D, outDim: F, layout: 'in_out', bias: true },
        { name: p + 'mlp.c_proj', inDim: F, outDim: D, layout: 'in_out', bias: true },
      );
    }
    return out;
  }

  defaultTargets(): string[] {
    return ['c_attn', 'c_proj', 'c_fc'];
  }

  protected embedName(): string {
    return 'transformer.wte.weight';
  }

  protected newOfSameKind(base: HFBase): HFCausalLM {
    return new Gpt2LM(this.spec, base, { contextLength: this.config.contextLength });
  }

  protected trunk(ids: tf.Tensor2D, opts: ForwardOptions, cache?: KVCache): tf.Tensor2D {
    const { hidden: D, heads: H, headDim: hd, normEps: eps } = this.spec;
    const [B, T] = ids.shape;
    const start = cache?.length ?? 0;
    const ragged = this.checkInput(B, T, cache);
    const training = opts.training ?? false;
    const drop = this.dropper(opts);
    const ln = (x: tf.Tensor2D, n: string) => layerNorm(x, this.w(n + '.weight') as tf.Tensor1D, this.w(n + '.bias') as tf.Tensor1D, eps);
    const lin = (x: tf.Tensor2D, name: string, inDim: number, outDim: number) =>
      this.linear(x, { name, inDim, outDim, layout: 'in_out', bias: true }, training, drop);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D;

    const tok = embed(tf.reshape(ids, [B * T]) as tf.Tensor1D, this.w('transformer.wte.weight') as tf.Tensor2D);
    // ragged (batched decoding, T = 1): row b's token at its own position
    const pos = ragged ? tf.gather(this.w('transformer.wpe.weight'), tf.tensor1d(ragged, 'int32')) : tf.slice(this.w('transformer.wpe.weight'), [start, 0], [T, D]);
    let x = (ragged ? tf.add(tok, pos) : tf.reshape(tf.add(tf.reshape(tok, [B, T, D]), pos), [B * T, D])) as tf.Tensor2D;
    for (let l = 0; l < this.spec.layers; l++) {
      const p = `transformer.h.${l}.`;
      const qkv = lin(ln(x, p + 'ln_1'), p + 'attn.c_attn', D, 3 * D);
      const [q, k0, v0] = tf.split(qkv, 3, 1);
      let k = heads(k0);
      let v = heads(v0);
      if (cache) [k, v] = cache.extend(l, k, v, 2, 2);
      const o = causalAttention(heads(q), k, v, ragged);
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D;
      x = tf.add(x, lin(merged, p + 'attn.c_proj', D, D));
      const f = gelu(lin(ln(x, p + 'ln_2'), p + 'mlp.c_fc', D, this.spec.intermediate)) as tf.Tensor2D;
      x = tf.add(x, lin(f, p + 'mlp.c_proj', this.spec.intermediate, D));
    }
    return ln(x, 'transformer.ln_f');
  }
}
