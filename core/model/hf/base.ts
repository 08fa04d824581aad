import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { lastRows, type ForwardOptions, type KVCache } from '../gpt.ts';
import type { CausalLM } from '../lm.ts';
import { matmul, matmulBT } from '../ops.ts';
import { dropout as dropoutOp } from '../native-dropout.ts';
import { Rng, hash32, hashString } from '../../util/rng.ts';
import type { HFSpec } from './config.ts';

/**
 * What the two imported architectures share: weights held under their Hugging Face names (frozen
 * base, shared between clones), LoRA adapters on chosen linear layers (the only trainable
 * parameters once attached), the LM head and the KV-cache plumbing. gpt2.ts and llama.ts each
 * hold one architecture's forward pass.
 */

/** LoRA (Hu et al. 2021): W x + (α/r)·B A dropout(x), A random, B zero so training starts at the base model. */
export const LoraConfig = z.object({
  version: z.literal(1).default(1),
  /** 8: the LoRA paper's small ranks (1–8) already match full fine-tuning on their tasks. */
  rank: z.number().int().min(1).default(8),
  /** 16 (= 2·rank): PEFT's common choice; the update is scaled by alpha / rank. */
  alpha: z.number().positive().default(16),
  /** 0.05: PEFT's default for small models; only active while training. */
  dropout: z.number().min(0).max(0.9).default(0.05),
  /** Module names (the last part of the HF name); empty = the architecture's default (all attention + MLP projections). */
  targets: z.array(z.string()).default([]),
  seed: z.number().int().default(1),
});
export type LoraConfig = z.infer<typeof LoraConfig>;
export type LoraConfigInput = z.input<typeof LoraConfig>;

/** One linear layer: weight under an HF name, stored [in,out] (GPT-2 Conv1D) or [out,in] (nn.Linear). */
export interface LinearSpec {
  name: string;
  inDim: number;
  outDim: number;
  layout: 'in_out' | 'out_in';
  bias: boolean;
}

/** The frozen weights of one import, shared by a model and its clones; freed with the last of them. */
class Base {
  refs = 1;
  constructor(readonly weights: Map<string, tf.Tensor>) {}
  release(): void {
    if (--this.refs === 0) for (const t of this.weights.values()) t.dispose();
  }
}

export interface HFLoadOptions {
  /** Positions the model is asked to handle (≤ the config's max; attention cost grows with its square). */
  contextLength?: number;
}

export abstract class HFCausalLM implements CausalLM {
  readonly config: { contextLength: number; vocabSize: number; dModel: number; causal: true; seed: number };
  protected readonly base: Base;
  protected lora?: { cfg: LoraConfig; vars: Map<string, tf.Variable> };
  private dropoutCalls = 0;
  private disposed = false;

  constructor(
    readonly spec: HFSpec,
    weights: Map<string, tf.Tensor> | Base,
    opts: HFLoadOptions = {},
  ) {
    this.base = weights instanceof Base ? weights : new Base(weights);
    const C = Math.min(opts.contextLength ?? spec.maxPositions, spec.maxPositions);
    this.config = { contextLength: C, vocabSize: spec.vocabSize, dModel: spec.hidden, causal: true, seed: 0 };
  }

  /** Every linear layer by HF module name (without `.weight`), for LoRA targets and merging. */
  abstract linears(): LinearSpec[];
  /** Default LoRA targets (module suffixes). */
  abstract defaultTargets(): string[];
  /** Embeddings → blocks → final norm as [B·T, D]. */
  protected abstract trunk(ids: tf.Tensor2D, opts: ForwardOptions, cache?: KVCache): tf.Tensor2D;
  protected abstract newOfSameKind(base: Base): HFCausalLM;
  /** The token-embedding table's name ([V,D]); also the head when embeddings are tied. */
  protected abstract embedName(): string;

  protected w(name: string): tf.Tensor {
    const t = this.base.weights.get(name);
    if (!t) throw new Error(`${this.spec.modelType}: no weight ${name}`);
    return t;
  }

  /** Names and shapes of the base weights (in HF layout), for export. */
  weightEntries(): Array<{ name: string; shape: number[] }> {
    return [...this.base.weights].map(([name, t]) => ({ name, shape: [...t.shape] }));
  }
  weight(name: string): tf.Tensor {
    return this.w(name);
  }

  /** x [N,in] through linear layer `l`, plus its LoRA update when it has an adapter. */
  protected linear(x: tf.Tensor2D, l: LinearSpec, training: boolean, drop: (x: tf.Tensor2D, rate: number) => tf.Tensor2D): tf.Tensor2D {
    const W = this.w(l.name + '.weight') as tf.Tensor2D;
    let y = l.layout === 'in_out' ? matmul(x, W) : matmulBT(x, W);
    if (l.bias) y = tf.add(y, this.w(l.name + '.bias'));
    const A = this.lora?.vars.get(l.name + '.lora_A');
    if (A && this.lora) {
      const { alpha, rank, dropout } = this.lora.cfg;
      const xin = training && dropout > 0 ? drop(x, dropout) : x;
      const upd = matmul(matmul(xin, A as tf.Tensor2D), this.lora.vars.get(l.name + '.lora_B') as tf.Tensor2D);
      y = tf.add(y, tf.mul(upd, alpha / rank));
    }
    return y;
  }

  /** Seeded dropout for this forward (LoRA's input dropout), same masks on every backend. */
  protected dropper(opts: ForwardOptions): (x: tf.Tensor2D, rate: number) => tf.Tensor2D {
    const base = opts.dropoutSeed ?? hash32(0x5bd1e995 * ++this.dropoutCalls);
    let n = 0;
    return (x, rate) => dropoutOp(x, rate, hash32((base + 0x9e3779b9 * ++n) >>> 0));
  }

  /** Adds LoRA adapters to the target layers; from then on params() are the adapters alone. */
  attachLora(input: LoraConfigInput = {}): LoraConfig {
    if (this.lora) throw new Error('attachLora: this model already has adapters');
    const cfg = LoraConfig.parse(input);
    const targets = cfg.targets.length ? cfg.targets : this.defaultTargets();
    const layers = this.linears().filter((l) => targets.some((t) => l.name === t || l.name.endsWith('.' + t)));
    if (layers.length === 0)
      throw new Error(`LoRA: no layer matches targets ${targets.join(', ')} (this ${this.spec.modelType} has ${[...new Set(this.linears().map((l) => l.name.split('.').pop()))].join(', ')})`);
    const vars = new Map<string, tf.Variable>();
    for (const l of layers) {
      // A like PEFT's kaiming-uniform: U(−1/√in, 1/√in); B zero.
      const rng = new Rng(hash32((cfg.seed ^ hashString(l.name)) >>> 0));
      const a = new Float32Array(l.inDim * cfg.rank);
      const bound = 1 / Math.sqrt(l.inDim);
      for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
      // In a tidy: a variable shares its initial tensor's data but leaves that tensor alive.
      vars.set(l.name + '.lora_A', tf.tidy(() => tf.variable(tf.tensor2d(a, [l.inDim, cfg.rank]), true)));
      vars.set(l.name + '.lora_B', tf.tidy(() => tf.variable(tf.zeros([cfg.rank, l.outDim]), true)));
    }
    this.lora = { cfg: { ...cfg, targets }, vars };
    return this.lora.cfg;
  }

  loraConfig(): LoraConfig | undefined {
    return this.lora?.cfg;
  }

  /** Trainable parameters: the adapters. Full fine-tuning of an imported base is not offered (memory: AdamW triples it). */
  params(): Map<string, tf.Variable> {
    if (this.lora) return new Map(this.lora.vars);
    throw new Error(`${this.spec.modelType}: an imported model trains through LoRA adapters; call attachLora() first`);
  }

  numParams(): number {
    let n = 0;
    for (const t of this.base.weights.values()) n += t.size;
    return n;
  }

  numTrainable(): number {
    let n = 0;
    for (const v of this.lora?.vars.values() ?? []) n += v.size;
    return n;
  }

  assignParams(values: Map<string, Float32Array>): void {
    for (const [name, v] of this.params()) {
      const data = values.get(name);
      if (!data) throw new Error(`${this.spec.modelType}: missing parameter ${name}`);
      if (data.length !== v.size) throw new Error(`${this.spec.modelType}: ${name} has ${data.length} values, expected ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }

  /** A model sharing the frozen base with copies of the adapters (DPO's policy and reference). */
  clone(): HFCausalLM {
    this.base.refs++;
    const copy = this.newOfSameKind(this.base);
    if (this.lora) {
      const vars = new Map<string, tf.Variable>();
      for (const [k, v] of this.lora.vars) vars.set(k, tf.tidy(() => tf.variable(v.clone(), true)));
      copy.lora = { cfg: this.lora.cfg, vars };
    }
    return copy;
  }

  /** Folds the adapters into base weights: a plain model (no adapters) whose logits equal this one's. */
  merged(): HFCausalLM {
    const weights = new Map<string, tf.Tensor>();
    const byName = new Map(this.linears().map((l) => [l.name + '.weight', l]));
    for (const [name, t] of this.base.weights) {
      const l = byName.get(name);
      const A = l && this.lora?.vars.get(l.name + '.lora_A');
      if (!l || !A) {
        weights.set(name, tf.clone(t));
        continue;
      }
      const B = this.lora!.vars.get(l.name + '.lora_B')!;
      const s = this.lora!.cfg.alpha / this.lora!.cfg.rank;
      weights.set(
        name,
        tf.tidy(() => {
          const d = tf.mul(tf.matMul(A, B), s); // [in,out]
          return tf.add(t, l.layout === 'in_out' ? d : tf.transpose(d));
        }),
      );
    }
    return this.newOfSameKind(new Base(weights));
  }

  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    return tf.tidy(() => tf.reshape(this.trunk(ids, opts), [B, T, this.spec.hidden]));
  }

  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    return tf.tidy(() => tf.reshape(this.logitsFlat(ids, opts), [B, T, this.spec.vocabSize]));
  }

  logitsFlat(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.head(this.trunk(ids, opts)));
  }

  /** LM head: h [N,D] · Wᵀ with W [V,D] (the token embedding when tied, else lm_head.weight). */
  head(h: tf.Tensor2D): tf.Tensor2D {
    return matmulBT(h, this.w(this.spec.tieEmbeddings ? this.embedName() : 'lm_head.weight') as tf.Tensor2D);
  }

  headFor(h: tf.Tensor2D, tokenIds: number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const idx = tf.tensor1d(tokenIds, 'int32');
      const w = tf.gather(this.w(this.spec.tieEmbeddings ? this.embedName() : 'lm_head.weight'), idx);
      return tf.matMul(h, w as tf.Tensor2D, false, true);
    });
  }

  /**
   * Next-token logits of the last new position [B,V] (with `last`, of row b's position last[b]:
   * right-padded prompts decoded together) after the cached tokens; extends the cache.
   */
  decode(ids: tf.Tensor2D, cache: KVCache, last?: readonly number[]): tf.Tensor2D {
    const [B, Tn] = ids.shape;
    cache.layout ??= 'kv-heads';
    cache.pendingKeys = [];
    cache.pendingValues = [];
    const out = tf.tidy(() => {
      const h = this.trunk(ids, {}, cache);
      return { logits: this.head(lastRows(h, B, Tn, last)), keys: cache.pendingKeys, values: cache.pendingValues };
    }) as { logits: tf.Tensor2D; keys: tf.Tensor[]; values: tf.Tensor[] };
    cache.dispose();
    cache.pendingKeys = cache.pendingValues = undefined;
    cache.keys = out.keys;
    cache.values = out.values;
    // A ragged cache (batched generation, KVCache.ragged): each row moves on by one token.
    if (cache.rowLengths) {
      cache.length = cache.slotsAfterStep();
      cache.rowLengths = cache.rowLengths.map((n) => n + Tn);
    } else cache.length += Tn;
    return out.logits;
  }

  /** Checks the input fits; returns the ragged rows' positions (batched decoding), else undefined. */
  protected checkInput(B: number, T: number, cache: KVCache | undefined): number[] | undefined {
    if (this.disposed) throw new Error(`${this.spec.modelType}: used after dispose()`);
    const ragged = cache?.rowLengths;
    const C = this.config.contextLength;
    if (ragged) {
      if (T !== 1 || ragged.length !== B) throw new Error(`${this.spec.modelType}: a ragged cache of ${ragged.length} rows decodes [rows, 1] ids, got [${B}, ${T}]`);
      if (Math.max(...ragged) + 1 > C) throw new Error(`${this.spec.modelType}: ${Math.max(...ragged) + 1} positions exceed contextLength ${C}`);
      return ragged;
    }
    const start = cache?.length ?? 0;
    if (start + T > C) throw new Error(`${this.spec.modelType}: ${start + T} positions exceed contextLength ${C}`);
    return undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.lora?.vars.values() ?? []) v.dispose();
    this.base.release();
  }
}

export { Base as HFBase };
