import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients (tf.div, tf.softmax, … would not train); the
// union package registers them all into the same core on import. Its dist/ ESM files cannot be
// imported from Node directly, so this side-effect import is the one way in (~0.1 s).
import '@tensorflow/tfjs';
import * as native from './native-ops.ts';

/**
 * The few tensor ops the model is written in, each with a hand-written gradient where TF.js's own
 * is missing or slow on some backend. Measured on wasm (1 thread, this machine):
 * - 2-D matMul with a transpose flag is 7x (transposeB) to 27x (transposeA) slower than without;
 *   tfjs autodiff of matMul *always* uses the flags, so every matmul here transposes explicitly
 *   in its gradient (a transpose costs ~1 ms per million floats).
 * - gather's gradient (UnsortedSegmentSum) does not exist → embeddings via one-hot matmul.
 * - oneHot with a float dtype is wrong → one-hot as int32, then cast.
 * - exp/tanh/logSoftmax are slow but softmax/sigmoid are fast → GELU through sigmoid and
 *   log-probs from softmax.
 * All of this is exact maths, so it is used on the cpu, tensorflow and wasm backends alike.
 *
 * On 'lref-native' none of those workarounds pays: its gemm applies transpose flags while packing
 * (for free), and it has fused kernels for GELU, LayerNorm, linear layers and cross-entropy. There
 * each op below is the plain TF.js op or the fused kernel of native-ops.ts, which cuts a training
 * step's kernel count by about half and drops every explicit transpose of a matmul gradient.
 */

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Fwd = { value: tf.Tensor; gradFunc: Grad };
type Save = (tensors: tf.Tensor[]) => void;
type CustomFn = Parameters<typeof tf.customGrad>[0];

/** tf.customGrad with the argument shapes we use (its own typing is one variadic union). */
function custom1(f: (a: tf.Tensor, save: Save) => Fwd): (a: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as unknown as CustomFn) as (a: tf.Tensor) => tf.Tensor;
}
function custom2(f: (a: tf.Tensor, b: tf.Tensor, save: Save) => Fwd): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as unknown as CustomFn) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
}
function custom3(
  f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, save: Save) => Fwd,
): (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as unknown as CustomFn) as (
    a: tf.Tensor,
    b: tf.Tensor,
    c: tf.Tensor,
  ) => tf.Tensor;
}

const T2 = [1, 0];
const T3 = [0, 2, 1];

/**
 * a [M,K] @ b [K,N]; gradients dA = dY·Bᵀ, dB = Aᵀ·dY with explicit transposes. dB transposes
 * whichever of A [M,K] and dY [M,N] is narrower: (dYᵀ·A)ᵀ when K > N (the MLP's down projection,
 * where A is 4x wider than dY), since a transpose costs in proportion to its size.
 */
const matmulOp = custom2((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, [sa, sb]) => [
      tf.matMul(dy, tf.transpose(sb, T2)),
      sa.shape[1]! > dy.shape[1]!
        ? tf.transpose(tf.matMul(tf.transpose(dy, T2), sa), T2)
        : tf.matMul(tf.transpose(sa, T2), dy),
    ],
  };
});
export function matmul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  // TF.js's own matMul gradient is exactly dA = matMul(dy, b, false, true), dB = matMul(a, dy, true, false).
  if (native.onNative()) return tf.matMul(a, b);
  return matmulOp(a, b) as tf.Tensor2D;
}

/**
 * a [M,K] @ b[N,K]ᵀ — the tied LM head (b = token embedding). dA = dY·B needs no transpose;
 * dB = (Aᵀ·dY)ᵀ transposes A [M,K] and a [K,N] result instead of the big dY [M,N].
 */
const matmulBTOp = custom2((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, tf.transpose(b, T2)),
    gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, sb), tf.transpose(tf.matMul(tf.transpose(sa, T2), dy), T2)],
  };
});
export function matmulBT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (native.onNative()) return tf.matMul(a, b, false, true);
  return matmulBTOp(a, b) as tf.Tensor2D;
}

/** Batched a [B,M,K] @ b [B,K,N] with explicit-transpose gradients. */
const bmmOp = custom2((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, tf.transpose(sb, T3)), tf.matMul(tf.transpose(sa, T3), dy)],
  };
});
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (native.onNative()) return tf.matMul(a, b);
  return bmmOp(a, b) as tf.Tensor3D;
}

/**
 * Column sums of x [N,D] → [D] as ones[1,N]·x: a fast 2-D matmul on wasm, where tf.sum over
 * axis 0 costs ~10x more. Used for bias and LayerNorm parameter gradients.
 */
export function colSum(x: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]) as tf.Tensor1D;
}

/** x [N,D] + b [D]; the bias gradient via colSum. */
export const addBias = custom2((x, b) => ({
  value: tf.add(x, b),
  gradFunc: (dy) => [dy, colSum(dy as tf.Tensor2D)],
}));

/** x [N,K] @ w [K,M] + b [M]: one fused kernel on 'lref-native', addBias(matmul) elsewhere. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (native.onNative()) return native.linear(x, w, b);
  return addBias(matmul(x, w), b) as tf.Tensor2D;
}

/** One-hot rows as float32, built as int32 first (wasm's float oneHot is wrong). */
export function oneHotFloat(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.cast(ids, 'int32'), depth), 'float32') as tf.Tensor2D;
}

/** True when the backend has no gather gradient, or (wasm) where one-hot matmul is faster anyway. */
export function embeddingViaOneHot(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || tf.getKernel('UnsortedSegmentSum', backend) === undefined;
}

/** Rows of `table` [V,D] for `ids` [N] → [N,D]; trainable on every backend. */
export function embed(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  if (!embeddingViaOneHot()) return tf.gather(table, ids);
  return embedOneHot(ids, table);
}

/** The one-hot path of embed, exported so tests can compare it with gather on any backend. */
export function embedOneHot(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  const depth = table.shape[0];
  const op = custom1((t, save) => {
    const oh = oneHotFloat(ids, depth);
    save([oh]);
    return { value: tf.matMul(oh, t), gradFunc: (dy, [soh]) => tf.matMul(tf.transpose(soh, T2), dy) };
  });
  return op(table) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GELU, tanh approximation (GPT-2's), computed as x·σ(2u) — identical to 0.5x(1+tanh u) — because
 * sigmoid is ~8x faster than tanh on wasm. Hand gradient saves a dozen autodiff ops.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return native.onNative() ? native.gelu(x) : geluOp(x);
}
const geluOp = custom1((x, save) => {
  const x2 = tf.square(x);
  const u2 = tf.mul(tf.mul(x, tf.add(tf.mul(x2, GELU_A), 1)), 2 * GELU_C);
  const s = tf.sigmoid(u2);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy, [sx, ss]) => {
      // d/dx x·s(u2) = s + x·s(1−s)·du2/dx,  du2/dx = 2c(1 + 3a x²)
      const du2 = tf.mul(tf.add(tf.mul(tf.square(sx), 3 * GELU_A), 1), 2 * GELU_C);
      const ds = tf.mul(tf.mul(ss, tf.sub(1, ss)), tf.mul(sx, du2));
      return tf.mul(dy, tf.add(ss, ds));
    },
  };
});

/** LayerNorm over the last axis of x [N,D] with a fused hand gradient. */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  if (native.onNative()) return native.layerNorm(x, gamma, beta, eps) as tf.Tensor2D;
  return layerNormOp(x, gamma, beta, eps) as tf.Tensor2D;
}
const lnCache = new Map<number, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();
function layerNormOp(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  let op = lnCache.get(eps);
  if (!op) {
    op = custom3((xi, gi, bi, save) => {
      const mu = tf.mean(xi, -1, true);
      const xc = tf.sub(xi, mu);
      const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
      const xhat = tf.mul(xc, rstd);
      save([xhat, rstd, gi]);
      return {
        value: tf.add(tf.mul(xhat, gi), bi),
        gradFunc: (dy, [sxhat, srstd, sg]) => {
          const dxhat = tf.mul(dy, sg);
          const m1 = tf.mean(dxhat, -1, true);
          const m2 = tf.mean(tf.mul(dxhat, sxhat), -1, true);
          const dx = tf.mul(srstd, tf.sub(tf.sub(dxhat, m1), tf.mul(sxhat, m2)));
          return [dx, colSum(tf.mul(dy, sxhat) as tf.Tensor2D), colSum(dy as tf.Tensor2D)];
        },
      };
    });
    lnCache.set(eps, op);
  }
  return op(x, g, b);
}

/**
 * log p(target) per row of logits [N,V] → [N], numerically stable without exp/logSoftmax:
 * p = softmax(z) (stable inside the kernel), and since p_max = 1/Σexp(z − z_max),
 * logΣexp(z) = z_max − log p_max with p_max ≥ 1/V (never underflows).
 * Gradient: d log p_t / dz = onehot(t) − p.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  if (native.onNative()) {
    // One fused softmax–cross-entropy kernel (and one gradient kernel): log p(t) = −xent.
    return tf.tidy(() => tf.neg(native.softmaxCrossEntropy(logits, targets.dtype === 'int32' ? targets : tf.cast(targets, 'int32'))));
  }
  const depth = logits.shape[1];
  const op = custom1((z, save) => {
    const p = tf.softmax(z);
    const oh = oneHotFloat(targets, depth);
    const lse = tf.sub(tf.max(z, -1), tf.log(tf.max(p, -1)));
    const zt = tf.sum(tf.mul(z, oh), -1);
    save([p, oh]);
    return {
      value: tf.sub(zt, lse),
      gradFunc: (dy, [sp, soh]) => tf.mul(tf.expandDims(dy, 1), tf.sub(soh, sp)),
    };
  });
  return op(logits) as tf.Tensor1D;
}
