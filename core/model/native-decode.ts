/**
 * One batched decode step of DecoderLM on 'lref-native' (one new token per row of a ragged KV
 * cache) as direct addon calls on the tensors' arrays, outside the TF.js engine.
 *
 * Why: a decode step is ~16 small kernels per layer, and on the tiny preset each kernel's TF.js
 * bookkeeping (kernel lookup, tensor tracking, scopes, output arrays) cost more than its
 * arithmetic, which left one-row decoding behind PyTorch. The calls here are the very addon calls
 * the kernels make (native-ops.ts, native-attention.ts, native-kernels.ts), with the same
 * arguments in the same order, so the logits are bitwise those of the kernel path (tested in
 * native-decode.test.ts); only the bookkeeping is gone. Keys and values are written into the
 * cache's own arrays, as LrefCacheWrite does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { ModelConfig } from './config.ts';
import type { KVCache } from './gpt.ts';
import { BinaryOp, UnaryOp, loadNativeAddon, type NativeAddon } from './native-addon.ts';

let enabled = true;
let taken = 0;
/** Turns this path off (true: on) — for tests and measurements that compare it with the kernel path. */
export function useNativeDecodeStep(on: boolean): void {
  enabled = on;
}
/** Steps this path has decoded so far (tests check it ran rather than fell back). */
export function nativeDecodeSteps(): number {
  return taken;
}

/** Reused step buffers by role (a step's buffers have the same sizes every step of a batch). */
const scratch = new Map<string, Float32Array>();
function buf(role: string, n: number): Float32Array {
  let a = scratch.get(role);
  if (!a || a.length !== n) scratch.set(role, (a = new Float32Array(n)));
  return a;
}

/**
 * The arrays of `cache`'s keys and values when every one is a float32 buffer this cache alone
 * holds, of the slots this step needs (no slot added); else undefined (the kernel path then runs).
 */
function ownedCache(backend: MathBackendCPU, cache: KVCache): { keys: Float32Array[]; values: Float32Array[] } | undefined {
  if (!cache.rowLengths || cache.layout !== 'tokens' || cache.slotsAfterStep() !== cache.length) return undefined;
  const arr = (t: tf.Tensor) => {
    const e = backend.data.get(t.dataId);
    return e.refCount === 1 && e.values instanceof Float32Array && t.shape[1] === cache.length ? e.values : undefined;
  };
  const keys = cache.keys.map(arr);
  const values = cache.values.map(arr);
  if (keys.some((a) => !a) || values.some((a) => !a)) return undefined;
  return { keys: keys as Float32Array[], values: values as Float32Array[] };
}

/**
 * Logits [rows, V] of the next token of each row after `ids` (one per row), or undefined when this
 * path does not apply (not on 'lref-native', not a ragged cache it can write in place): the caller
 * then runs the kernel path. Advances the cache like DecoderLM.decode.
 */
export function nativeDecodeStep(
  cfg: ModelConfig, param: (name: string) => tf.Tensor, ids: Int32Array, cache: KVCache,
): Float32Array | undefined {
  if (!enabled || tf.getBackend() !== 'lref-native') return undefined;
  const st = loadNativeAddon();
  if (!st.available) return undefined;
  const backend = tf.backend() as MathBackendCPU;
  const kv = ownedCache(backend, cache);
  const pos = cache.rowLengths;
  if (!kv || !pos || pos.length !== ids.length || cache.keys.length !== cfg.nLayers) return undefined;
  const { dModel: D, nHeads: H, nLayers: L, vocabSize: V, contextLength: C, ffMult } = cfg;
  const B = ids.length;
  const S = cache.length;
  if (Math.max(...pos) + 1 > C) throw new Error(`DecoderLM: ${Math.max(...pos) + 1} positions exceed contextLength ${C}`);
  const w = (name: string) => {
    const v = backend.data.get(param(name).dataId).values;
    if (!(v instanceof Float32Array)) throw new Error(`nativeDecodeStep: ${name} is not float32`);
    return v;
  };
  const a: NativeAddon = st.addon;
  const hd = D / H;
  const F = ffMult * D;
  const rowBias = (n: number, m: number) => Int32Array.of(2, n, m, m, 1, 0, 1); // [n,m] + [m]
  const same = (n: number) => Int32Array.of(1, n, 1, 1);
  const linear = (x: Float32Array, n: number, k: number, m: number, wName: string, bName: string, y: Float32Array) => {
    a.gemm(1, 1, 1, n, m, k, 0, 0, x, w(wName), y);
    a.binary(BinaryOp.add, rowBias(n, m), y, w(bName), y);
  };
  const mean = buf('mean', B);
  const rstd = buf('rstd', B);
  const layerNorm = (x: Float32Array, g: string, b: string, y: Float32Array) => a.layerNorm(x, w(g), w(b), y, mean, rstd, B, D, 1e-5);

  // Embeddings: token row + the row's own position (embed's gather, then Add).
  const tokE = w('tok_emb');
  const posE = w('pos_emb');
  const tok = buf('tok', B * D);
  const pe = buf('pe', B * D);
  for (let b = 0; b < B; b++) {
    if (!(ids[b] >= 0 && ids[b] < V)) throw new Error(`DecoderLM: token id ${ids[b]} outside 0..${V - 1}`);
    tok.set(tokE.subarray(ids[b] * D, (ids[b] + 1) * D), b * D);
    pe.set(posE.subarray(pos[b] * D, (pos[b] + 1) * D), b * D);
  }
  let x = buf('x0', B * D);
  let x2 = buf('x1', B * D);
  a.binary(BinaryOp.add, same(B * D), tok, pe, x);

  const h = buf('h', B * D);
  const q = buf('q', B * D);
  const k = buf('k', B * D);
  const v = buf('v', B * D);
  const scores = buf('scores', B * H * S);
  const att = buf('att', B * H * S);
  const ctx = buf('ctx', B * D);
  const o = buf('o', B * D);
  const f = buf('f', B * F);
  const g = buf('g', B * F);
  const scale = Float32Array.of(1 / Math.sqrt(hd));
  for (let l = 0; l < L; l++) {
    const p = `h${l}.`;
    layerNorm(x, p + 'ln1.g', p + 'ln1.b', h);
    // LrefQKV: three gemms, biases, q scaled.
    linear(h, B, D, D, p + 'attn.wq', p + 'attn.bq', q);
    a.binary(BinaryOp.mul, Int32Array.of(1, B * D, 1, 0), q, scale, q);
    linear(h, B, D, D, p + 'attn.wk', p + 'attn.bk', k);
    linear(h, B, D, D, p + 'attn.wv', p + 'attn.bv', v);
    // LrefCacheWrite: each row's key and value at its slot.
    const kc = kv.keys[l];
    const vc = kv.values[l];
    for (let b = 0; b < B; b++) {
      kc.set(k.subarray(b * D, (b + 1) * D), (b * S + pos[b]) * D);
      vc.set(v.subarray(b * D, (b + 1) * D), (b * S + pos[b]) * D);
    }
    // LrefAttnScores [B,H,1,S], LrefRaggedSoftmax (row b sees pos[b] + 1 keys), LrefAttnContext [B,1,D].
    a.stridedGemm(B, H, 1, S, hd, 0, 1, q, D, hd, D, kc, S * D, hd, D, scores, H * S, S, S);
    for (let b = 0; b < B; b++) a.softmaxCausal(scores.subarray(b * H * S, (b + 1) * H * S), att.subarray(b * H * S, (b + 1) * H * S), H, S, 1, pos[b]);
    a.stridedGemm(B, H, 1, hd, S, 0, 0, att, H * S, S, S, vc, S * D, hd, D, ctx, D, hd, D);
    linear(ctx, B, D, D, p + 'attn.wo', p + 'attn.bo', o);
    a.binary(BinaryOp.add, same(B * D), x, o, x2);
    [x, x2] = [x2, x];
    layerNorm(x, p + 'ln2.g', p + 'ln2.b', h);
    linear(h, B, D, F, p + 'mlp.w1', p + 'mlp.b1', f);
    a.unary(UnaryOp.geluTanh, f, g);
    linear(g, B, F, D, p + 'mlp.w2', p + 'mlp.b2', o);
    a.binary(BinaryOp.add, same(B * D), x, o, x2);
    [x, x2] = [x2, x];
  }
  layerNorm(x, 'ln_f.g', 'ln_f.b', h);
  const logits = new Float32Array(B * V);
  if (cfg.tieEmbeddings) a.gemm(1, 1, 1, B, V, D, 0, 1, h, tokE, logits);
  else a.gemm(1, 1, 1, B, V, D, 0, 0, h, w('lm_head'), logits);
  cache.rowLengths = pos.map((n) => n + 1);
  taken++;
  return logits;
}
