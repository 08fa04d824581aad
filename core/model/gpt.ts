import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig, type ModelConfigInput } from './config.ts';
import { bmm, embed, gelu, layerNorm, linear, matmul, matmulBT } from './ops.ts';
import { cacheAppend, cacheFit, causalSoftmax, onNative, qkvProjection, raggedBias, raggedSoftmax, softmax } from './native-ops.ts';
import { attnContext, attnScores } from './native-attention.ts';
import { nativeDecodeStep } from './native-decode.ts';
import { dropout as dropoutOp } from './native-dropout.ts';
import { Rng, hash32, hashString } from '../util/rng.ts';
import { snapshotParams } from './lm.ts';

/**
 * A GPT-style decoder (nanoGPT's shape): token + learned position embeddings, pre-LN blocks of
 * multi-head self-attention and a GELU MLP, a final LayerNorm and an LM head tied to the token
 * embedding. With config.causal=false the same trunk is a bidirectional encoder.
 *
 * Layout: activations stay 2-D [B·T, D] so every projection is one plain 2-D matmul (the fast
 * path on wasm); only attention reshapes to [B·H, T, hd]. Q, K and V have separate weights
 * because splitting a fused [D, 3D] projection copies more than three matmuls cost on wasm.
 * On 'lref-native' attention reads the heads in place instead (attentionInPlace); see ops.ts for
 * the other native routes.
 */

/** How attention is masked: an additive bias (broadcast to [B,H,T,Tk]) and/or causal in the softmax. */
interface AttentionMask {
  bias?: tf.Tensor;
  /** Causal masking inside the native softmax kernel; queries start at this absolute position. */
  causalOffset?: number;
  /** Ragged decoding on native: keys row b sees (raggedSoftmax). */
  ragged?: number[];
}

export interface ForwardOptions {
  /** Enables dropout. */
  training?: boolean;
  /** [B,T] 1 = real token, 0 = padding: padded keys get no attention (needed when not causal). */
  attentionMask?: tf.Tensor2D;
  /** Seeds this forward's dropout masks; the training step derives it from (seed, step). */
  dropoutSeed?: number;
}

/**
 * Per-layer keys and values of the tokens seen so far. Layout 'heads' (portable backends): keys
 * transposed [B,H,hd,t], values [B,H,t,hd]. Layout 'tokens' ('lref-native', whose attention reads
 * heads in place): both [B,t,D]. A cache keeps the layout of its first decode.
 *
 * Ragged (rowLengths set, made by KVCache.ragged): rows hold different numbers of tokens. Row b's
 * tokens sit in slots 0..rowLengths[b]−1, at the same slots as when decoded alone, and the slots
 * after them are zero; a decode writes each row's new token into its next slot and masks the rest,
 * so every row's sums run over the same values in the same order as one-at-a-time decoding.
 */
export class KVCache {
  keys: tf.Tensor[] = [];
  values: tf.Tensor[] = [];
  /** Tokens already in the cache (= position of the next token); ragged: the number of slots. */
  length = 0;
  /** Ragged caches only: tokens held by each row (= the position of its next token). */
  rowLengths?: number[];
  /** Fixed by the first decode: 'heads' or 'tokens' (see above). */
  /** 'kv-heads': the imported models (core/model/hf), keys and values both [B,H,t,hd]. */
  layout?: 'heads' | 'tokens' | 'kv-heads';
  /** Filled by the decode in progress, then swapped in (so a failed decode leaves the cache intact). */
  pendingKeys?: tf.Tensor[];
  pendingValues?: tf.Tensor[];

  get batchSize(): number {
    return this.keys.length ? this.keys[0].shape[0] : 0;
  }

  /** Token axes of keys and values in this cache's layout. */
  private axes(): [number, number] {
    return this.layout === 'heads' ? [3, 2] : this.layout === 'kv-heads' ? [2, 2] : [1, 1];
  }

  /**
   * One ragged cache of `slots` slots (default the longest row) from `caches`, each filled by one
   * decode of right-padded prompts; their rows in order are the ragged rows, row b's prompt in
   * slots 0..lengths[b]−1. The padding's keys and values are zeroed, and room reserved up front
   * keeps every decode step's cache the same size, so each step writes into the cache in place
   * (cacheAppend) instead of copying it. Each row then holds what decoding its prompt alone would
   * have put there. Takes ownership: the inputs are disposed.
   */
  static ragged(caches: KVCache[], lengths: number[], slots = 0): KVCache {
    const out = new KVCache();
    if (caches.length === 0) return out;
    const layout = caches[0].layout;
    if (caches.some((c) => c.layout !== layout || c.rowLengths || c.pendingKeys) || caches.reduce((n, c) => n + c.batchSize, 0) !== lengths.length) {
      throw new Error(`KVCache.ragged: needs filled batch caches of one layout with ${lengths.length} rows in all`);
    }
    out.layout = layout;
    out.rowLengths = [...lengths];
    out.length = Math.max(slots, ...lengths);
    const [ka, va] = out.axes();
    const fit = (part: (c: KVCache) => tf.Tensor, axis: number) => {
      let at = 0;
      const rows = caches.map((c) => {
        const t = cacheFit(part(c), lengths.slice(at, at + c.batchSize), out.length, axis);
        at += c.batchSize;
        return t;
      });
      if (rows.length === 1) return rows[0];
      const all = tf.concat(rows, 0);
      tf.dispose(rows);
      return all;
    };
    for (let l = 0; l < caches[0].keys.length; l++) {
      out.keys.push(fit((c) => c.keys[l], ka));
      out.values.push(fit((c) => c.values[l], va));
    }
    for (const c of caches) c.dispose();
    return out;
  }

  /**
   * Prepends layer `layer`'s cached keys/values to this step's (along the layouts' token axes) and
   * records the result for the pending swap; returns what attention should read. Ragged: writes
   * row b's new token (one per row) into slot rowLengths[b] instead, growing the cache by a slot
   * only when the longest row needs it.
   */
  extend<K extends tf.Tensor, V extends tf.Tensor>(layer: number, k: K, v: V, keyAxis: number, valueAxis: number): [K, V] {
    if (this.rowLengths && this.keys[layer]) {
      k = this.place(this.keys[layer], k, keyAxis) as K;
      v = this.place(this.values[layer], v, valueAxis) as V;
    } else if (this.keys[layer]) {
      k = tf.concat([this.keys[layer] as K, k], keyAxis) as K;
      v = tf.concat([this.values[layer] as V, v], valueAxis) as V;
    }
    this.pendingKeys!.push(k);
    this.pendingValues!.push(v);
    return [k, v];
  }

  /** Slots after a ragged decode step: room for the longest row's next token. */
  slotsAfterStep(): number {
    return Math.max(this.length, ...this.rowLengths!.map((n) => n + 1));
  }

  /**
   * cached + onehot(rowLengths)·x along `axis`: an exact write (the free slots hold zeros). In place
   * when it can (the cache owns its tensors and swaps them after the step): a decode that fails
   * later has then written its token into slots no row reads yet, which the next write replaces.
   */
  private place(cached: tf.Tensor, x: tf.Tensor, axis: number): tf.Tensor {
    return cacheAppend(cached, x, this.rowLengths!, this.slotsAfterStep(), axis, true);
  }

  /**
   * Keeps batch rows `rows` (beam search picks parents, possibly repeated; batched decoding drops
   * finished rows); disposes the old tensors. A ragged cache keeps its slots (see ragged).
   */
  reorder(rows: number[]): void {
    if (rows.length === this.batchSize && rows.every((r, i) => r === i)) return; // nothing dropped or repeated
    const idx = tf.tensor1d(rows, 'int32');
    const nk = this.keys.map((k) => tf.keep(tf.gather(k, idx)));
    const nv = this.values.map((v) => tf.keep(tf.gather(v, idx)));
    idx.dispose();
    this.dispose();
    this.keys = nk;
    this.values = nv;
    if (this.rowLengths) this.rowLengths = rows.map((r) => this.rowLengths![r]);
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
    this.keys = [];
    this.values = [];
  }
}

/** Rows of h [B·T, D] at each row's last position (T−1, or last[b]). */
export function lastRows(h: tf.Tensor2D, B: number, T: number, last?: readonly number[]): tf.Tensor2D {
  if (T === 1 && !last) return h;
  const at = last ?? new Array<number>(B).fill(T - 1);
  if (at.length !== B || !at.every((t) => Number.isInteger(t) && t >= 0 && t < T)) throw new Error(`decode: last positions ${at} for ${B} rows of ${T}`);
  // A gather, not a strided slice: the cpu backend's slice of [B,1,D] out of [B,T,D] is an element-wise JS loop.
  return tf.gather(h, tf.tensor1d(at.map((t, b) => b * T + t), 'int32'));
}

let instances = 0;

const NEG = -1e9;

export class DecoderLM {
  readonly config: ModelConfig;
  private readonly vars = new Map<string, tf.Variable>();
  /** [ctx, ctx] additive causal mask (0 on/below the diagonal, −1e9 above), made once. */
  private readonly causalBias: tf.Tensor2D;
  private dropoutCalls = 0;
  private disposed = false;

  constructor(config: ModelConfigInput | ModelConfig) {
    this.config = ModelConfig.parse(config);
    const { vocabSize: V, contextLength: C, dModel: D, nLayers: L, ffMult, tieEmbeddings, seed } = this.config;
    // tf.variable names are global in the engine; a per-instance prefix lets many models coexist
    // (policy and frozen reference for DPO, the three auxiliary models of stage 1).
    const prefix = `lref${++instances}/`;
    const std = 0.02;
    const residStd = 0.02 / Math.sqrt(2 * L); // GPT-2: residual projections scaled by depth
    const add = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones', s = std) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (init === 'ones') data.fill(1);
      if (init === 'normal') {
        // One stream per parameter name: adding a parameter never changes the others' init.
        const rng = new Rng(hash32((seed ^ hashString(name)) >>> 0));
        for (let i = 0; i < n; i++) data[i] = rng.normal() * s;
      }
      const init0 = tf.tensor(data, shape, 'float32');
      this.vars.set(name, tf.variable(init0, true, prefix + name));
      init0.dispose(); // the variable holds its own reference to the data
    };
    add('tok_emb', [V, D], 'normal');
    add('pos_emb', [C, D], 'normal');
    for (let l = 0; l < L; l++) {
      const p = `h${l}.`;
      add(p + 'ln1.g', [D], 'ones');
      add(p + 'ln1.b', [D], 'zeros');
      for (const w of ['q', 'k', 'v']) {
        add(`${p}attn.w${w}`, [D, D], 'normal');
        add(`${p}attn.b${w}`, [D], 'zeros');
      }
      add(p + 'attn.wo', [D, D], 'normal', residStd);
      add(p + 'attn.bo', [D], 'zeros');
      add(p + 'ln2.g', [D], 'ones');
      add(p + 'ln2.b', [D], 'zeros');
      add(p + 'mlp.w1', [D, ffMult * D], 'normal');
      add(p + 'mlp.b1', [ffMult * D], 'zeros');
      add(p + 'mlp.w2', [ffMult * D, D], 'normal', residStd);
      add(p + 'mlp.b2', [D], 'zeros');
    }
    add('ln_f.g', [D], 'ones');
    add('ln_f.b', [D], 'zeros');
    if (!tieEmbeddings) add('lm_head', [D, V], 'normal');
    const bias = new Float32Array(C * C);
    for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) bias[i * C + j] = NEG;
    this.causalBias = tf.tensor2d(bias, [C, C]);
  }

  /** Trainable parameters by stable name (the names checkpoints use). */
  params(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  /** Total number of trainable scalars. */
  numParams(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  private p(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`DecoderLM: no parameter ${name}`);
    return v;
  }
  private w(name: string): tf.Tensor2D {
    return this.p(name) as tf.Tensor2D;
  }
  private b(name: string): tf.Tensor1D {
    return this.p(name) as tf.Tensor1D;
  }

  /** Final-LayerNorm hidden states [B,T,D] (for classifier and scoring heads). */
  hidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    return tf.tidy(() => tf.reshape(this.trunk(ids, opts), [B, T, this.config.dModel]));
  }

  /** Next-token logits [B,T,V]. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    return tf.tidy(() => tf.reshape(this.logitsFlat(ids, opts), [B, T, this.config.vocabSize]));
  }

  /** Next-token logits flattened to [B·T, V] (what the loss wants; no reshape needed). */
  logitsFlat(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.head(this.trunk(ids, opts)));
  }

  /** LM head on hidden rows h [N,D] → [N,V]. */
  head(h: tf.Tensor2D): tf.Tensor2D {
    return this.config.tieEmbeddings
      ? matmulBT(h, this.p('tok_emb') as tf.Tensor2D)
      : matmul(h, this.p('lm_head') as tf.Tensor2D);
  }

  /** Logits of only the given tokens for hidden rows h [N,D] → [N,L] (scoring; not for training). */
  headFor(h: tf.Tensor2D, tokenIds: number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const idx = tf.tensor1d(tokenIds, 'int32');
      const w = this.config.tieEmbeddings
        ? tf.transpose(tf.gather(this.p('tok_emb'), idx))
        : tf.gather(this.p('lm_head'), idx, 1);
      return tf.matMul(h, w as tf.Tensor2D);
    });
  }

  /**
   * Decodes `ids` [B,tNew] after the tokens already in `cache` (which it extends in place) and
   * returns the logits of the last new position [B,V] — or, with `last`, of row b's position
   * last[b] (right-padded prompts decoded together). Cost per new token is O(cache length).
   */
  decode(ids: tf.Tensor2D, cache: KVCache, last?: readonly number[]): tf.Tensor2D {
    const [B, Tn] = ids.shape;
    if (cache.rowLengths && Tn === 1 && !last && onNative()) {
      // Batched decoding's steps: the same addon calls without the TF.js bookkeeping (native-decode.ts).
      if (this.disposed) throw new Error('DecoderLM: used after dispose()');
      const data = ids.dataSync();
      const logits = nativeDecodeStep(this.config, (n) => this.p(n), data instanceof Int32Array ? data : Int32Array.from(data), cache);
      if (logits) return tf.tensor2d(logits, [B, this.config.vocabSize]);
    }
    const out = tf.tidy(() => {
      const h = this.trunk(ids, {}, cache);
      const rows = lastRows(h, B, Tn, last);
      return { logits: this.head(rows), keys: cache.pendingKeys, values: cache.pendingValues };
    }) as { logits: tf.Tensor2D; keys: tf.Tensor[]; values: tf.Tensor[] };
    cache.dispose();
    cache.pendingKeys = cache.pendingValues = undefined;
    cache.keys = out.keys;
    cache.values = out.values;
    if (cache.rowLengths) {
      cache.length = cache.slotsAfterStep();
      cache.rowLengths = cache.rowLengths.map((n) => n + Tn);
    } else cache.length += Tn;
    return out.logits;
  }

  /** The shared body: embeddings → blocks → final LN, as [B·T, D]. */
  private trunk(ids: tf.Tensor2D, opts: ForwardOptions, cache?: KVCache): tf.Tensor2D {
    if (this.disposed) throw new Error('DecoderLM: used after dispose()');
    const { dModel: D, nLayers: L, contextLength: C, dropout, causal } = this.config;
    const [B, T] = ids.shape;
    const start = cache?.length ?? 0;
    if (!cache?.rowLengths && start + T > C) throw new Error(`DecoderLM: ${start + T} positions exceed contextLength ${C}`);
    const rate = opts.training ? dropout : 0;
    const base = opts.dropoutSeed ?? hash32(this.config.seed + 0x5bd1e995 * ++this.dropoutCalls);
    let nDrop = 0;
    // Same masks as tf.dropout on every backend (native-dropout.ts runs it as one kernel).
    const drop = <R extends tf.Tensor>(x: R): R =>
      rate > 0 ? dropoutOp(x, rate, hash32((base + 0x9e3779b9 * ++nDrop) >>> 0)) : x;

    const tok = embed(tf.reshape(ids, [B * T]) as tf.Tensor1D, this.p('tok_emb') as tf.Tensor2D);
    const native = onNative();
    const ragged = cache?.rowLengths;
    let x: tf.Tensor2D;
    const mask: AttentionMask = {};
    if (ragged) {
      // Batched decoding: one new token per row, each at its own position, seeing its own keys.
      if (T !== 1 || ragged.length !== B) throw new Error(`DecoderLM: a ragged cache of ${ragged.length} rows decodes [rows, 1] ids, got [${B}, ${T}]`);
      if (Math.max(...ragged) + 1 > C) throw new Error(`DecoderLM: ${Math.max(...ragged) + 1} positions exceed contextLength ${C}`);
      const pos = tf.gather(this.p('pos_emb'), tf.tensor1d(ragged, 'int32'));
      x = drop(tf.add(tok, pos) as tf.Tensor2D);
      const seen = ragged.map((n) => n + 1);
      if (native) mask.ragged = seen;
      else mask.bias = raggedBias(seen, cache.slotsAfterStep(), 4);
    } else {
      // The whole table when it fits exactly: a slice's gradient is a pad, which runs as a slow JS kernel.
      const pos = start === 0 && T === C ? this.p('pos_emb') : tf.slice(this.p('pos_emb'), [start, 0], [T, D]);
      x = drop(tf.reshape(tf.add(tf.reshape(tok, [B, T, D]), pos), [B * T, D]) as tf.Tensor2D);
      // Attention masking: an additive bias broadcast to [B,H,T,Tk] (causal −1e9 above the
      // diagonal, padding). On native the causal part is done inside the softmax kernel instead.
      const Tk = start + T;
      mask.causalOffset = causal && native ? start : undefined;
      if (causal && !native && T > 1) mask.bias = tf.slice(this.causalBias, [start, 0], [T, Tk]);
      if (opts.attentionMask) {
        const pad = tf.reshape(tf.mul(tf.sub(1, tf.cast(opts.attentionMask, 'float32')), NEG), [B, 1, 1, Tk]);
        mask.bias = mask.bias ? tf.add(mask.bias, pad) : pad;
      }
    }
    if (cache) {
      cache.layout ??= native ? 'tokens' : 'heads';
      const want = native ? 'tokens' : 'heads';
      if (cache.layout !== want) throw new Error(`KVCache: holds ${cache.layout} layout, this backend needs ${want}`);
      cache.pendingKeys = [];
      cache.pendingValues = [];
    }
    for (let l = 0; l < L; l++) {
      const p = `h${l}.`;
      const h = layerNorm(x, this.p(p + 'ln1.g') as tf.Tensor1D, this.p(p + 'ln1.b') as tf.Tensor1D);
      const a = native ? this.attentionInPlace(h, B, T, p, mask, drop, cache, l) : this.attention(h, B, T, p, mask.bias, drop, cache, l);
      x = tf.add(x, drop(a));
      const h2 = layerNorm(x, this.p(p + 'ln2.g') as tf.Tensor1D, this.p(p + 'ln2.b') as tf.Tensor1D);
      const f = gelu(linear(h2, this.w(p + 'mlp.w1'), this.b(p + 'mlp.b1'))) as tf.Tensor2D;
      x = tf.add(x, drop(linear(f, this.w(p + 'mlp.w2'), this.b(p + 'mlp.b2'))));
    }
    return layerNorm(x, this.p('ln_f.g') as tf.Tensor1D, this.p('ln_f.b') as tf.Tensor1D);
  }

  /** Portable attention: heads transposed out to [B·H, T, hd], keys to [B·H, hd, T], batched matmuls. */
  private attention(
    h: tf.Tensor2D,
    B: number,
    T: number,
    p: string,
    bias: tf.Tensor | undefined,
    drop: <R extends tf.Tensor>(x: R) => R,
    cache: KVCache | undefined,
    layer: number,
  ): tf.Tensor2D {
    const { dModel: D, nHeads: H } = this.config;
    const hd = D / H;
    const proj = (w: string) => linear(h, this.w(`${p}attn.w${w}`), this.b(`${p}attn.b${w}`));
    // Scale q (T·hd values) rather than the scores (T·T values).
    const q = tf.reshape(tf.transpose(tf.reshape(tf.mul(proj('q'), 1 / Math.sqrt(hd)), [B, T, H, hd]), [0, 2, 1, 3]), [
      B * H,
      T,
      hd,
    ]) as tf.Tensor3D;
    // Keys go straight to the transposed layout the score matmul wants: one transpose, no flag.
    let kT = tf.transpose(tf.reshape(proj('k'), [B, T, H, hd]), [0, 2, 3, 1]) as tf.Tensor4D;
    let v = tf.transpose(tf.reshape(proj('v'), [B, T, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    if (cache) [kT, v] = cache.extend(layer, kT, v, 3, 2);
    const Tk = kT.shape[3];
    let s = tf.reshape(bmm(q, tf.reshape(kT, [B * H, hd, Tk]) as tf.Tensor3D), [B, H, T, Tk]) as tf.Tensor;
    if (bias) s = tf.add(s, bias);
    const att = drop(tf.reshape(tf.softmax(s), [B * H, T, Tk]) as tf.Tensor3D);
    const o = bmm(att, tf.reshape(v, [B * H, Tk, hd]) as tf.Tensor3D);
    const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D;
    return linear(merged, this.w(`${p}attn.wo`), this.b(`${p}attn.bo`));
  }

  /**
   * Attention on 'lref-native': q, k, v stay [B,T,D] and the products read each head in place
   * (native-attention.ts), the causal mask is applied inside the softmax kernel, and the context
   * comes back with heads merged — no transposes, no [B,H,T,Tk] bias sum. The cache holds keys
   * and values as [B,t,D].
   */
  private attentionInPlace(
    h: tf.Tensor2D,
    B: number,
    T: number,
    p: string,
    mask: AttentionMask,
    drop: <R extends tf.Tensor>(x: R) => R,
    cache: KVCache | undefined,
    layer: number,
  ): tf.Tensor2D {
    const { dModel: D, nHeads: H } = this.config;
    // One kernel for the three projections; q is scaled (T·hd values) rather than the scores (T·T).
    const w = (n: string) => this.w(`${p}attn.w${n}`);
    const b = (n: string) => this.b(`${p}attn.b${n}`);
    const [q, k0, v0] = qkvProjection(h, [w('q'), w('k'), w('v')], [b('q'), b('k'), b('v')], 1 / Math.sqrt(D / H), B);
    let k = k0;
    let v = v0;
    if (cache) [k, v] = cache.extend(layer, k, v, 1, 1);
    let s: tf.Tensor4D = attnScores(q, k, H);
    if (mask.bias) s = tf.add(s, mask.bias);
    const att = drop(
      mask.ragged ? raggedSoftmax(s, mask.ragged) : mask.causalOffset !== undefined ? causalSoftmax(s, mask.causalOffset) : softmax(s),
    );
    return linear(tf.reshape(attnContext(att, v), [B * T, D]) as tf.Tensor2D, this.w(`${p}attn.wo`), this.b(`${p}attn.bo`));
  }

  /** Replaces every parameter's value (checkpoint load); shapes must match. */
  assignParams(values: Map<string, Float32Array>): void {
    for (const [name, v] of this.vars) {
      const data = values.get(name);
      if (!data) throw new Error(`DecoderLM: missing parameter ${name}`);
      if (data.length !== v.size) throw new Error(`DecoderLM: ${name} has ${data.length} values, expected ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }

  /** A new model with this config and these weights in variables of its own: training it leaves this one alone. */
  clone(): DecoderLM {
    const copy = new DecoderLM(this.config);
    // A copy: a backend may hand out its own buffer, and an in-place kernel must not reach the original.
    copy.assignParams(snapshotParams(this));
    return copy;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.vars.values()) v.dispose();
    this.causalBias.dispose();
  }
}
