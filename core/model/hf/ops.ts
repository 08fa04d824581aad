import * as tf from '@tensorflow/tfjs-core';
import { causalSoftmax, onNative, raggedSoftmax } from '../native-ops.ts';
import { bmm, matmul } from '../ops.ts';

/**
 * The Llama-family ops, composed of TF.js ops that 'lref-native' runs as its own kernels (matmul,
 * broadcasting arithmetic, reductions, rsqrt, sigmoid, softmax with an in-kernel causal mask) and
 * differentiated by TF.js autodiff. native-hf.test.ts checks values and gradients against the
 * tfjs cpu backend.
 */

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · g (Llama's, in float32). */
export function rmsNorm(x: tf.Tensor2D, g: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), g));
}

/** SwiGLU: silu(gate) · up, silu(z) = z·σ(z). */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}

/** cos and sin tables [positions, headDim/2] of RoPE at angles pos · θ^(−2i/d) (HF's inv_freq, in float32 as HF computes it). */
export function ropeTables(positions: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
    for (let p = 0; p < positions; p++) {
      const a = Math.fround(p * inv);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/**
 * Rotary embedding of x [B,H,T,hd] at positions whose tables are cos, sin [T, hd/2], in HF's
 * "rotate half" layout: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin), x1/x2 the two halves.
 * rotate_half(x) = (−x2, x1) is x·R with R a signed permutation, one native matmul: exact (one
 * nonzero term per output) and ~100× faster on lref-native than split + concat, which run as JS kernels.
 */
export function rotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D, perRow = false): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, T, hd] = x.shape;
    const half = hd / 2;
    const r = new Float32Array(hd * hd);
    for (let j = 0; j < half; j++) {
      r[(j + half) * hd + j] = -1;
      r[j * hd + j + half] = 1;
    }
    // perRow (batched decoding, T = 1): the tables are [B, hd/2], row b at its own position.
    const shape = perRow ? [cos.shape[0], 1, 1, hd] : [1, 1, cos.shape[0], hd];
    const c = tf.reshape(tf.concat([cos, cos], 1), shape);
    const s = tf.reshape(tf.concat([sin, sin], 1), shape);
    const rotated = tf.reshape(matmul(tf.reshape(x, [B * H * T, hd]) as tf.Tensor2D, tf.tensor2d(r, [hd, hd])), [B, H, T, hd]);
    return tf.add(tf.mul(x, c), tf.mul(rotated, s)) as tf.Tensor4D;
  });
}

/** [B,KV,T,hd] → [B,KV·g,T,hd]: each key/value head serves g query heads (head h reads kv head ⌊h/g⌋, HF's repeat_kv). */
export function repeatKV(x: tf.Tensor4D, g: number): tf.Tensor4D {
  if (g === 1) return x;
  const [B, KV, T, hd] = x.shape;
  // Tiled as rank 4 ([B,KV,1,T·hd] → [B,KV,g,T·hd]): TF.js has no tile gradient above rank 4.
  return tf.reshape(tf.tile(tf.reshape(x, [B, KV, 1, T * hd]), [1, 1, g, 1]), [B, KV * g, T, hd]) as tf.Tensor4D;
}

const NEG = -1e9;

/**
 * Causal scaled-dot-product attention over q [B,H,T,hd], k and v [B,KV,Tk,hd] whose first
 * Tk−T keys are cached positions → [B,H,T,hd] (ragged: T = 1, each row at its own position).
 * Grouped-query attention without repeating k and v: query head h reads kv head ⌊h/g⌋ (HF's
 * repeat_kv), so the g query heads of a kv head are stacked as g·T rows against its keys. (A tiled
 * copy of k and v cost ~30× more, its gradient ~100×, on lref-native.)
 * On 'lref-native' the mask is applied inside the softmax kernel; elsewhere as an additive −1e9
 * bias (exp underflows to exactly 0 either way).
 */
export function causalAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, ragged?: readonly number[]): tf.Tensor4D {
  const [B, H, T, hd] = q.shape;
  const KV = k.shape[1];
  if (H % KV !== 0) throw new Error(`causalAttention: ${H} query heads on ${KV} kv heads`);
  const g = H / KV;
  const Tk = k.shape[2];
  const start = Tk - T;
  const q3 = tf.reshape(tf.mul(q, 1 / Math.sqrt(hd)), [B * KV, g * T, hd]) as tf.Tensor3D;
  const kT = tf.transpose(tf.reshape(k, [B * KV, Tk, hd]), [0, 2, 1]) as tf.Tensor3D;
  let s = tf.reshape(bmm(q3, kT), [B, H, T, Tk]) as tf.Tensor4D;
  let p: tf.Tensor4D;
  // ragged (batched decoding): row b's query sits at position ragged[b] and sees keys 0..ragged[b].
  if (ragged) p = raggedSoftmax(s, ragged.map((n) => n + 1));
  else if (onNative()) p = causalSoftmax(s, start);
  else {
    if (T > 1) s = tf.add(s, maskBias(T, Tk, start));
    p = tf.softmax(s);
  }
  return tf.reshape(bmm(tf.reshape(p, [B * KV, g * T, Tk]) as tf.Tensor3D, tf.reshape(v, [B * KV, Tk, hd]) as tf.Tensor3D), [B, H, T, hd]) as tf.Tensor4D;
}

/** [T,Tk] additive mask for queries at positions start.. (made per call: T·Tk floats, cheap next to the scores). */
function maskBias(T: number, Tk: number, start: number): tf.Tensor2D {
  const data = new Float32Array(T * Tk);
  for (let i = 0; i < T; i++) for (let j = start + i + 1; j < Tk; j++) data[i * Tk + j] = NEG;
  return tf.tensor2d(data, [T, Tk]);
}
