/**
 * Fused transformer ops that run as one native kernel (and one gradient kernel) on 'lref-native'
 * and as ordinary composite TF.js ops on any other backend, so model code can call them
 * unconditionally. Fusing saves the dozen intermediate tensors TF.js would otherwise make for a
 * layer norm or a tanh-GELU, which on a 2-core CPU cost more than the arithmetic.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native-addon.ts';
import { outputArray } from './native-pool.ts';
import { BinaryOp, UnaryOp, loadNativeAddon } from './native-addon.ts';
import { f32 } from './native-kernels.ts';

const NATIVE = 'lref-native';
const GELU = 'LrefGelu';
const GELU_GRAD = 'LrefGeluGrad';
const LAYER_NORM = 'LrefLayerNorm';
const LAYER_NORM_GRAD = 'LrefLayerNormGrad';
const XENT = 'LrefSoftmaxXent';
const XENT_GRAD = 'LrefSoftmaxXentGrad';
const ADAMW = 'LrefAdamW';
const LINEAR = 'LrefLinear';
const QKV = 'LrefQKV';
const SOFTMAX = 'LrefSoftmax';
const SOFTMAX_GRAD = 'LrefSoftmaxGrad';
const RAGGED_SOFTMAX = 'LrefRaggedSoftmax';
const CACHE_APPEND = 'LrefCacheAppend';
const CACHE_WRITE = 'LrefCacheWrite';
const CACHE_FIT = 'LrefCacheFit';
const GELU_C = Math.sqrt(2 / Math.PI);

export function onNative(): boolean {
  return tf.getBackend() === NATIVE;
}

/** GELU, tanh approximation (GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (onNative()) return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  return tf.tidy(() => {
    const inner = tf.mul(GELU_C, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/** Layer norm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (onNative()) {
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as tf.Tensor[];
    mean.dispose();
    rstd.dispose();
    return y;
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  });
}

/**
 * x [N,K] · w [K,M] + b [M] as one kernel (gemm, then the bias added in place). Its gradient uses
 * matmul transpose flags, which the native gemm applies while packing (no transpose op):
 * dx = dy·wᵀ, dw = xᵀ·dy, db = Σ_rows dy. Composite ops off 'lref-native'.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (onNative()) return tf.engine().runKernel(LINEAR, { x, w, b }) as tf.Tensor2D;
  return tf.add(tf.matMul(x, w), b);
}

/**
 * The three attention projections as one kernel: q = (x·wq + bq)·scale, k = x·wk + bk,
 * v = x·wv + bv, each [batch, N/batch, D] — in place of three linear kernels, three reshapes and
 * a multiply (what decoding one token is mostly made of). 'lref-native' only.
 */
export function qkvProjection(
  x: tf.Tensor2D, w: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D], b: [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D],
  scale: number, batch: number,
): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  if (!onNative()) throw new Error('qkvProjection: lref-native only');
  const inputs = { x, wq: w[0], wk: w[1], wv: w[2], bq: b[0], bk: b[1], bv: b[2] };
  return tf.engine().runKernel(QKV, inputs, { scale, batch }) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
}

/**
 * Softmax over the last axis whose gradient is one native kernel, y·(dy − Σ dy·y), instead of
 * TF.js's four ops (mul, sum, mul, sub) over the [B,H,T,T] attention scores.
 */
export function softmax<R extends tf.Tensor>(x: R): R {
  if (onNative()) return tf.engine().runKernel(SOFTMAX, { x }, { causalOffset: -1 }) as R;
  return tf.softmax(x);
}

/**
 * Causal attention softmax on 'lref-native': scores [.., T, Tk] where query i (absolute position
 * i + offset) sees keys 0..i + offset; later keys get probability 0, exactly as after adding the
 * −1e9 causal bias — without making the bias or the [B,H,T,Tk] sum.
 */
export function causalSoftmax<R extends tf.Tensor>(x: R, offset: number): R {
  if (!onNative()) throw new Error('causalSoftmax: lref-native only (elsewhere add the causal bias)');
  return tf.engine().runKernel(SOFTMAX, { x }, { causalOffset: offset }) as R;
}

/**
 * Softmax of scores x [B, ..., Tk] where batch row b sees only keys 0..lengths[b]−1 (later keys get
 * probability 0): batched decoding, where each row's cache holds its own number of tokens. On
 * 'lref-native' each row is the same native call the one-row causal softmax makes, so a row's
 * probabilities are bitwise those of decoding it alone; elsewhere a −1e9 bias, then tf.softmax.
 */
export function raggedSoftmax<R extends tf.Tensor>(x: R, lengths: readonly number[]): R {
  const B = x.shape[0];
  const Tk = x.shape[x.rank - 1];
  tf.util.assert(x.rank >= 2 && lengths.length === B && lengths.every((n) => Number.isInteger(n) && n >= 1 && n <= Tk),
    () => `raggedSoftmax: ${lengths.length} lengths in 1..${Tk} for scores ${x.shape}`);
  if (onNative()) return tf.engine().runKernel(RAGGED_SOFTMAX, { x }, { lengths: [...lengths] }) as R;
  return tf.tidy(() => tf.softmax(tf.add(x, raggedBias(lengths, Tk, x.rank)))) as R;
}

/** [B, 1, …, Tk] additive mask: 0 on row b's first lengths[b] keys, −1e9 after. */
export function raggedBias(lengths: readonly number[], Tk: number, rank: number): tf.Tensor {
  const bias = new Float32Array(lengths.length * Tk);
  lengths.forEach((n, b) => bias.fill(-1e9, b * Tk + n, (b + 1) * Tk));
  return tf.tensor(bias, [lengths.length, ...new Array<number>(rank - 2).fill(1), Tk]);
}

/**
 * A ragged KV cache's write: `cached` [B, ..., S (at `axis`), ...] grown to `slots` along its token
 * axis, with row b's new entry x[b] (size 1 along the axis) put at slot lengths[b]; the slots a row
 * has not reached stay zero. On 'lref-native': one copy in place of the concat, one-hot multiply and
 * add it is equal to (the cpu path). `inPlace` (decoding only: the caller owns `cached` and drops it
 * after): when no slot is added and no other tensor shares its buffer, the entries are written into
 * that buffer and the result aliases it — no copy of the whole cache per step. No gradient then.
 */
export function cacheAppend(cached: tf.Tensor, x: tf.Tensor, lengths: readonly number[], slots: number, axis: number, inPlace = false): tf.Tensor {
  const S = cached.shape[axis];
  tf.util.assert(axis >= 1 && axis < cached.rank && slots >= S && lengths.length === cached.shape[0] && lengths.every((n) => Number.isInteger(n) && n >= 0 && n < slots),
    () => `cacheAppend: ${lengths.length} lengths in 0..${slots - 1} for a cache ${cached.shape} (token axis ${axis})`);
  tf.util.assert(x.rank === cached.rank && x.shape.every((n, i) => (i === axis ? n === 1 : n === cached.shape[i])),
    () => `cacheAppend: entries ${x.shape} do not fit a cache ${cached.shape} (token axis ${axis})`);
  if (onNative()) return tf.engine().runKernel(inPlace ? CACHE_WRITE : CACHE_APPEND, { cached, x }, { lengths: [...lengths], slots, axis }) as tf.Tensor;
  return tf.tidy(() => tf.add(grown(cached, slots, axis), tf.mul(oneHotSlots(lengths, slots, axis, x.rank), x)));
}

/**
 * A batch's cache made into a ragged one: `cached` [B, ..., T (at `axis`), ...] from decoding
 * right-padded prompts together, cut or zero-padded to `slots` along the token axis, with row b's
 * slots from lengths[b] on set to zero (its padding's keys and values gone; the ragged write relies
 * on free slots holding zeros). One copy on 'lref-native'; elsewhere pad/slice and a 0/1 multiply.
 */
export function cacheFit(cached: tf.Tensor, lengths: readonly number[], slots: number, axis: number): tf.Tensor {
  const T = cached.shape[axis];
  tf.util.assert(axis >= 1 && axis < cached.rank && lengths.length === cached.shape[0] && lengths.every((n) => Number.isInteger(n) && n >= 0 && n <= Math.min(T, slots)),
    () => `cacheFit: ${lengths.length} lengths in 0..${Math.min(T, slots)} for a cache ${cached.shape} (token axis ${axis}) of ${slots} slots`);
  if (onNative()) return tf.engine().runKernel(CACHE_FIT, { cached }, { lengths: [...lengths], slots, axis }) as tf.Tensor;
  return tf.tidy(() => {
    const sized = T > slots ? tf.slice(cached, 0, cached.shape.map((n, i) => (i === axis ? slots : n))) : grown(cached, slots, axis);
    const keep = new Float32Array(lengths.length * slots);
    lengths.forEach((n, b) => keep.fill(1, b * slots, b * slots + n));
    return tf.mul(sized, tf.tensor(keep, Array.from({ length: cached.rank }, (_, i) => (i === 0 ? lengths.length : i === axis ? slots : 1))));
  });
}

/** [outer, t, inner] of a shape around its token axis, and the outer rows of one batch row. */
function aroundAxis(shape: number[], axis: number): { outer: number; inner: number; perRow: number } {
  const outer = tf.util.sizeFromShape(shape.slice(0, axis));
  return { outer, inner: tf.util.sizeFromShape(shape.slice(axis + 1)), perRow: shape[0] === 0 ? 0 : outer / shape[0] };
}

/** `cached` with zero slots appended along `axis` up to `slots`. */
function grown(cached: tf.Tensor, slots: number, axis: number): tf.Tensor {
  const S = cached.shape[axis];
  return S < slots ? tf.concat([cached, tf.zeros(cached.shape.map((n, i) => (i === axis ? slots - S : n)))], axis) : cached;
}

/** [B, 1.., slots (at axis), 1..]: 1 at each row's slot lengths[b]. */
function oneHotSlots(lengths: readonly number[], slots: number, axis: number, rank: number): tf.Tensor {
  const hot = new Float32Array(lengths.length * slots);
  lengths.forEach((n, b) => (hot[b * slots + n] = 1));
  return tf.tensor(hot, Array.from({ length: rank }, (_, i) => (i === 0 ? lengths.length : i === axis ? slots : 1)));
}

/**
 * Per-row cross-entropy of softmax(logits) against integer labels: logits [N, V], labels int32 [N]
 * → loss [N]. A label outside [0, V) (e.g. -1 for padding) gives loss 0 and no gradient.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  tf.util.assert(logits.rank === 2 && labels.rank === 1 && labels.shape[0] === logits.shape[0] && labels.dtype === 'int32',
    () => `softmaxCrossEntropy: logits [N, V] and int32 labels [N] expected, got ${logits.shape} and ${labels.dtype} ${labels.shape}`);
  if (onNative()) {
    const [loss, probs] = tf.engine().runKernel(XENT, { logits, labels }) as tf.Tensor[];
    probs.dispose();
    return loss as tf.Tensor1D;
  }
  return tf.tidy(() => {
    const v = logits.shape[1];
    const valid = tf.logicalAnd(tf.greaterEqual(labels, 0), tf.less(labels, v));
    const onehot = tf.oneHot(tf.where(valid, labels, tf.zerosLike(labels)), v);
    const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1));
    return tf.where(valid, nll, tf.zerosLike(nll)) as tf.Tensor1D;
  });
}

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled decay for this parameter (0 for gains, biases, embeddings) */
  weightDecay: number;
  /** Adam's t, from 1 */
  step: number;
  /** multiplies the gradient first (the global-norm clip factor) */
  gradScale: number;
}

/**
 * One AdamW update of (param, m, v) as one native kernel instead of the ~10 TF.js ops (and 5
 * temporaries) of the composite update; the variables are assigned the results. Returns false —
 * and changes nothing — off 'lref-native'; the caller then runs its composite update.
 * Same maths as core/train/adamw.ts: p ← p − lr·(m̂ / (√v̂ + ε) + wd·p), g scaled by gradScale.
 */
export function adamwStep(param: tf.Variable, m: tf.Variable, v: tf.Variable, grad: tf.Tensor, o: AdamWStep): boolean {
  if (!onNative()) return false;
  // At step 0 the bias corrections 1 − β^t are 0 and every weight would become NaN.
  if (!Number.isInteger(o.step) || o.step < 1) throw new Error(`adamwStep: step must be an integer >= 1, got ${o.step}`);
  if (param.size !== grad.size || param.size !== m.size || param.size !== v.size) {
    throw new Error(`adamwStep: param ${param.shape}, m ${m.shape}, v ${v.shape} and grad ${grad.shape} differ in size`);
  }
  const attrs = { ...o } as unknown as tf.NamedAttrMap;
  const [p1, m1, v1] = tf.engine().runKernel(ADAMW, { param, m, v, grad }, attrs) as tf.Tensor[];
  param.assign(p1);
  m.assign(m1);
  v.assign(v1);
  tf.dispose([p1, m1, v1]);
  return true;
}

/**
 * Σ over tensors of Σ x², accumulated in double, in one pass over each array. 'lref-native' only
 * (its tensors live in CPU memory, so reading them is free). For the global gradient norm.
 */
export function sumSquares(tensors: Iterable<tf.Tensor>): number {
  const addon = loadNativeAddon();
  if (!onNative() || !addon.available) throw new Error('sumSquares: lref-native only');
  let s = 0;
  for (const t of tensors) {
    if (t.dtype !== 'float32') throw new Error(`sumSquares: ${t.dtype} tensor`);
    s += addon.addon.sumSquares(t.dataSync() as Float32Array);
  }
  return s;
}

type Args = { inputs: Record<string, TensorInfo>; backend: MathBackendCPU; attrs?: NamedAttrMap };

interface CacheAttrs {
  lengths: number[];
  slots: number;
  axis: number;
}

/** The ragged write into a new buffer: each row's S slots copied, zeros up to `slots`, its entry at lengths[b]. */
function cacheCopy(backend: MathBackendCPU, cached: TensorInfo, x: TensorInfo, { lengths, slots, axis }: CacheAttrs): TensorInfo {
  const S = cached.shape[axis];
  const { outer, inner, perRow } = aroundAxis(cached.shape, axis);
  const y = outputArray(backend, outer * slots * inner);
  const c = f32(backend, cached);
  const xs = f32(backend, x);
  for (let o = 0; o < outer; o++) {
    y.set(c.subarray(o * S * inner, (o + 1) * S * inner), o * slots * inner);
    y.fill(0, (o * slots + S) * inner, (o + 1) * slots * inner);
    y.set(xs.subarray(o * inner, (o + 1) * inner), (o * slots + lengths[Math.floor(o / perRow)]) * inner);
  }
  return backend.makeTensorInfo(cached.shape.map((s, i) => (i === axis ? slots : s)), 'float32', y);
}

/** [rows, cols] of a tensor seen as rows over its last axis; an empty last axis keeps its rows. */
function rowsCols(t: TensorInfo): [number, number] {
  if (t.shape.length === 0) return [1, 1];
  return [tf.util.sizeFromShape(t.shape.slice(0, -1)), t.shape[t.shape.length - 1]];
}

/** The forward and gradient kernels of the fused ops, for the native backend. */
export function fusedKernelConfigs(addon: NativeAddon, backendName: string): KernelConfig[] {
  const kernels: Record<string, (args: Args) => TensorInfo | TensorInfo[]> = {
    [GELU]: ({ inputs, backend }) => {
      const res = outputArray(backend, tf.util.sizeFromShape(inputs.x.shape));
      addon.unary(UnaryOp.geluTanh, f32(backend, inputs.x), res);
      return backend.makeTensorInfo(inputs.x.shape, 'float32', res);
    },
    [GELU_GRAD]: ({ inputs, backend }) => {
      const res = outputArray(backend, tf.util.sizeFromShape(inputs.x.shape));
      addon.geluGrad(f32(backend, inputs.x), f32(backend, inputs.dy), res);
      return backend.makeTensorInfo(inputs.x.shape, 'float32', res);
    },
    [LAYER_NORM]: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs;
      const [rows, cols] = rowsCols(x);
      const y = outputArray(backend, rows * cols);
      const mean = outputArray(backend, rows);
      const rstd = outputArray(backend, rows);
      addon.layerNorm(f32(backend, x), f32(backend, gamma), f32(backend, beta), y, mean, rstd, rows, cols, attrs?.eps as number);
      const statShape = x.shape.slice(0, -1);
      return [backend.makeTensorInfo(x.shape, 'float32', y), backend.makeTensorInfo(statShape, 'float32', mean),
        backend.makeTensorInfo(statShape, 'float32', rstd)];
    },
    [LAYER_NORM_GRAD]: ({ inputs, backend }) => {
      const { x, gamma, mean, rstd, dy } = inputs;
      const [rows, cols] = rowsCols(x);
      const dx = outputArray(backend, rows * cols);
      const dgamma = outputArray(backend, cols);
      const dbeta = outputArray(backend, cols);
      addon.layerNormGrad(f32(backend, x), f32(backend, gamma), f32(backend, mean), f32(backend, rstd), f32(backend, dy),
        dx, dgamma, dbeta, rows, cols);
      return [backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo([cols], 'float32', dgamma),
        backend.makeTensorInfo([cols], 'float32', dbeta)];
    },
    [LINEAR]: ({ inputs, backend }) => {
      const { x, w, b } = inputs;
      const [n, k] = x.shape;
      const m = w.shape[1];
      tf.util.assert(w.shape[0] === k && b.shape[0] === m, () => `linear: shapes ${x.shape} ${w.shape} ${b.shape} do not fit`);
      const y = outputArray(backend, n * m);
      addon.gemm(1, 1, 1, n, m, k, 0, 0, f32(backend, x), f32(backend, w), y);
      const meta = Int32Array.of(2, n, m, m, 1, 0, 1); // [n,m] + [m] broadcast over rows
      if (y.length > 0) addon.binary(BinaryOp.add, meta, y, f32(backend, b), y);
      return backend.makeTensorInfo([n, m], 'float32', y);
    },
    [QKV]: ({ inputs, backend, attrs }) => {
      const { x } = inputs;
      const [n, k] = x.shape;
      const batch = attrs?.batch as number;
      const scale = attrs?.scale as number;
      return (['q', 'k', 'v'] as const).map((name) => {
        const w = inputs[`w${name}`];
        const b = inputs[`b${name}`];
        const m = w.shape[1];
        tf.util.assert(w.shape[0] === k && b.shape[0] === m && n % batch === 0, () => `qkv: shapes ${x.shape} ${w.shape} ${b.shape}`);
        const y = outputArray(backend, n * m);
        addon.gemm(1, 1, 1, n, m, k, 0, 0, f32(backend, x), f32(backend, w), y);
        if (y.length > 0) {
          addon.binary(BinaryOp.add, Int32Array.of(2, n, m, m, 1, 0, 1), y, f32(backend, b), y);
          // the same float32 multiply as tf.mul(q, scale)
          if (name === 'q') addon.binary(BinaryOp.mul, Int32Array.of(1, n * m, 1, 0), y, Float32Array.of(scale), y);
        }
        return backend.makeTensorInfo([batch, n / batch, m], 'float32', y);
      });
    },
    [SOFTMAX]: ({ inputs, backend, attrs }) => {
      const [rows, cols] = rowsCols(inputs.x);
      const y = outputArray(backend, rows * cols);
      const offset = attrs?.causalOffset as number;
      const T = inputs.x.shape.length >= 2 ? inputs.x.shape[inputs.x.shape.length - 2] : 1;
      if (y.length > 0 && offset >= 0) addon.softmaxCausal(f32(backend, inputs.x), y, rows, cols, T, offset);
      else if (y.length > 0) addon.softmax(f32(backend, inputs.x), y, rows, cols);
      return backend.makeTensorInfo(inputs.x.shape, 'float32', y);
    },
    [RAGGED_SOFTMAX]: ({ inputs, backend, attrs }) => {
      const [rows, cols] = rowsCols(inputs.x);
      const y = outputArray(backend, rows * cols);
      const lengths = attrs?.lengths as number[];
      const per = rows / lengths.length; // rows of one batch row (heads × queries)
      const x = f32(backend, inputs.x);
      // One call per batch row: rows `cols` apart, each softmaxed over its first lengths[b] columns (offset = length − 1 with T = 1).
      if (y.length > 0) {
        lengths.forEach((n, b) => addon.softmaxCausal(x.subarray(b * per * cols, (b + 1) * per * cols), y.subarray(b * per * cols, (b + 1) * per * cols), per, cols, 1, n - 1));
      }
      return backend.makeTensorInfo(inputs.x.shape, 'float32', y);
    },
    [CACHE_APPEND]: ({ inputs, backend, attrs }) => cacheCopy(backend, inputs.cached, inputs.x, attrs as unknown as CacheAttrs),
    [CACHE_WRITE]: ({ inputs, backend, attrs }) => {
      const { cached, x } = inputs;
      const a = attrs as unknown as CacheAttrs;
      const entry = backend.data.get(cached.dataId);
      // Only a buffer this tensor alone holds, at its final size; anything else gets the copying write.
      if (cached.shape[a.axis] !== a.slots || entry.refCount !== 1 || !(entry.values instanceof Float32Array)) return cacheCopy(backend, cached, x, a);
      const c = entry.values;
      const xs = f32(backend, x);
      const { outer, inner, perRow } = aroundAxis(cached.shape, a.axis);
      for (let o = 0; o < outer; o++) c.set(xs.subarray(o * inner, (o + 1) * inner), (o * a.slots + a.lengths[Math.floor(o / perRow)]) * inner);
      backend.incRef(cached.dataId); // the result aliases the input, as the cpu backend's reshape does
      return { dataId: cached.dataId, shape: cached.shape, dtype: 'float32' };
    },
    [CACHE_FIT]: ({ inputs, backend, attrs }) => {
      const { cached } = inputs;
      const { lengths, slots, axis } = attrs as unknown as CacheAttrs;
      const T = cached.shape[axis];
      const { outer, inner, perRow } = aroundAxis(cached.shape, axis);
      const y = outputArray(backend, outer * slots * inner);
      const c = f32(backend, cached);
      for (let o = 0; o < outer; o++) {
        const n = lengths[Math.floor(o / perRow)];
        y.set(c.subarray(o * T * inner, (o * T + n) * inner), o * slots * inner);
        y.fill(0, (o * slots + n) * inner, (o + 1) * slots * inner);
      }
      return backend.makeTensorInfo(cached.shape.map((s, i) => (i === axis ? slots : s)), 'float32', y);
    },
    [SOFTMAX_GRAD]: ({ inputs, backend }) => {
      const [rows, cols] = rowsCols(inputs.y);
      const dx = outputArray(backend, rows * cols);
      if (dx.length > 0) addon.softmaxGrad(f32(backend, inputs.y), f32(backend, inputs.dy), dx, rows, cols);
      return backend.makeTensorInfo(inputs.y.shape, 'float32', dx);
    },
    [ADAMW]: ({ inputs, backend, attrs }) => {
      // Updates copies: the inputs' buffers may be shared with other tensors.
      const copy = (t: TensorInfo) => {
        const src = f32(backend, t);
        const dst = outputArray(backend, src.length);
        dst.set(src);
        return dst;
      };
      const p = copy(inputs.param);
      const m = copy(inputs.m);
      const v = copy(inputs.v);
      const o = attrs as unknown as AdamWStep;
      addon.adam(p, m, v, f32(backend, inputs.grad), o.lr, o.beta1, o.beta2, o.eps, o.weightDecay,
        1 - o.beta1 ** o.step, 1 - o.beta2 ** o.step, o.gradScale);
      const shape = inputs.param.shape;
      return [p, m, v].map((values) => backend.makeTensorInfo(shape, 'float32', values));
    },
    [XENT]: ({ inputs, backend }) => {
      const { logits, labels } = inputs;
      const [rows, cols] = logits.shape;
      const probs = outputArray(backend, rows * cols);
      const loss = outputArray(backend, rows);
      addon.softmaxXent(f32(backend, logits), backend.data.get(labels.dataId).values as Int32Array, probs, loss, rows, cols);
      return [backend.makeTensorInfo([rows], 'float32', loss), backend.makeTensorInfo([rows, cols], 'float32', probs)];
    },
    [XENT_GRAD]: ({ inputs, backend }) => {
      const { probs, labels, dloss } = inputs;
      const [rows, cols] = probs.shape;
      const d = outputArray(backend, rows * cols);
      addon.softmaxXentGrad(f32(backend, probs), backend.data.get(labels.dataId).values as Int32Array,
        f32(backend, dloss), d, rows, cols);
      return backend.makeTensorInfo([rows, cols], 'float32', d);
    },
  };
  return Object.entries(kernels).map(([kernelName, fn]) => ({ kernelName, backendName, kernelFunc: fn as unknown as KernelFunc }));
}

let gradientsRegistered = false;

/** Gradients of the fused kernels (registered once; gradients are backend-independent in TF.js). */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  const run = (name: string, inputs: Record<string, tf.Tensor>) => tf.engine().runKernel(name, inputs);
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => run(GELU_GRAD, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
  });
  tf.registerGradient({
    kernelName: LINEAR,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const [x, w] = saved;
      const d = dy as tf.Tensor2D;
      return { x: () => tf.matMul(d, w, false, true), w: () => tf.matMul(x, d, true, false), b: () => tf.sum(d, 0) };
    },
  });
  tf.registerGradient({
    kernelName: QKV,
    inputsToSave: ['x', 'wq', 'wk', 'wv'],
    gradFunc: (dys, saved, attrs) => {
      const [x, wq, wk, wv] = saved as tf.Tensor2D[];
      const flat = (d: tf.Tensor) => tf.reshape(d, [x.shape[0], d.shape[2]!]) as tf.Tensor2D;
      const [dq0, dk, dv] = (dys as tf.Tensor[]).map(flat);
      const dq = tf.mul(dq0, attrs.scale as number) as tf.Tensor2D;
      const dw = (d: tf.Tensor2D) => () => tf.matMul(x, d, true, false);
      const db = (d: tf.Tensor2D) => () => tf.sum(d, 0);
      return {
        x: () => tf.addN([tf.matMul(dq, wq, false, true), tf.matMul(dk, wk, false, true), tf.matMul(dv, wv, false, true)]),
        wq: dw(dq), wk: dw(dk), wv: dw(dv), bq: db(dq), bk: db(dk), bv: db(dv),
      };
    },
  });
  tf.registerGradient({
    kernelName: SOFTMAX,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => run(SOFTMAX_GRAD, { y: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
  });
  // As for the composite (cached grown + one-hot·x): the cache gets dy on its slots, x the dy at its slot.
  tf.registerGradient({
    kernelName: CACHE_APPEND,
    inputsToSave: ['cached'],
    gradFunc: (dy, [cached], attrs) => {
      const d = dy as tf.Tensor;
      const axis = attrs.axis as number;
      const hot = () => oneHotSlots(attrs.lengths as number[], attrs.slots as number, axis, cached.rank);
      return {
        cached: () => tf.slice(d, 0, cached.shape),
        x: () => tf.tidy(() => tf.sum(tf.mul(d, hot()), axis, true)),
      };
    },
  });
  // Masked keys have y = 0, so y·(dy − Σ dy·y) gives them no gradient, as the −1e9 bias does.
  tf.registerGradient({
    kernelName: RAGGED_SOFTMAX,
    outputsToSave: [true],
    gradFunc: (dy, saved) => ({ x: () => run(SOFTMAX_GRAD, { y: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
  });
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gamma, mean, rstd] = saved;
      const dy = (dys as tf.Tensor[])[0];
      const [dx, dgamma, dbeta] = run(LAYER_NORM_GRAD, { x, gamma, mean, rstd, dy }) as tf.Tensor[];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });
  tf.registerGradient({
    kernelName: XENT,
    inputsToSave: ['labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [labels, probs] = saved;
      const dloss = (dys as tf.Tensor[])[0];
      return {
        logits: () => run(XENT_GRAD, { probs, labels, dloss }) as tf.Tensor,
        labels: () => tf.zerosLike(labels),
      };
    },
  });
}
