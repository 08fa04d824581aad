import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from '../native-backend.ts';
import { Rng } from '../../util/rng.ts';
import { causalAttention, repeatKV, rmsNorm, ropeTables, rotary, swiglu } from './ops.ts';

// The Llama-family ops on 'lref-native' (native matmul, arithmetic, reductions, softmax with the
// causal mask in-kernel) against the tfjs cpu backend: values and gradients of Σ f·probe.
const native = nativeBackendStatus().registered;

function randn(seed: number, shape: number[]): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

async function valueAndGrads(backend: string, shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<number[][]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(randn(10 + i, s), s));
    const y = f(...xs);
    const probe = tf.tensor(randn(99, y.shape), y.shape);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), probe)) as tf.Scalar)(xs);
    return [y, ...gs].map((t) => Array.from(t.dataSync()));
  });
}

async function compare(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<void> {
  const a = await valueAndGrads('cpu', shapes, f);
  const b = await valueAndGrads(NATIVE_BACKEND, shapes, f);
  expect(b.length).toBe(a.length);
  for (let k = 0; k < a.length; k++) {
    const scale = Math.max(1, ...a[k].map(Math.abs));
    let err = 0;
    for (let i = 0; i < a[k].length; i++) err = Math.max(err, Math.abs(a[k][i] - b[k][i]));
    expect(err / scale, `output ${k}`).toBeLessThan(1e-5);
    // every gradient is non-trivial (an op that dropped its gradient would give zeros on both)
    expect(Math.max(...a[k].map(Math.abs))).toBeGreaterThan(1e-3);
  }
}

describe.skipIf(!native)('Llama-family ops on lref-native match the cpu backend (values and gradients)', () => {
  it('RMSNorm', () => compare([[6, 16], [16]], (x, g) => rmsNorm(x as tf.Tensor2D, g as tf.Tensor1D, 1e-6)));
  it('SwiGLU', () => compare([[6, 24], [6, 24]], (g, u) => swiglu(g as tf.Tensor2D, u as tf.Tensor2D)));
  it('rotary embedding', () => {
    const { cos, sin } = ropeTables(5, 8, 10000);
    return compare([[2, 3, 5, 8]], (x) => rotary(x as tf.Tensor4D, tf.tensor2d(cos, [5, 4]), tf.tensor2d(sin, [5, 4])));
  });
  it('grouped-query causal attention (4 query heads on 2 kv heads)', () =>
    compare([[2, 4, 5, 8], [2, 2, 5, 8], [2, 2, 5, 8]], (q, k, v) => causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D)));
  it('attention of new queries over cached keys (causal offset)', () =>
    compare([[1, 2, 2, 8], [1, 2, 6, 8], [1, 2, 6, 8]], (q, k, v) => causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D)));
});

describe('grouped-query attention and rotary, cpu', () => {
  it('grouped attention equals attention on kv heads repeated as HF repeat_kv does; rotary equals rotate-half by split', async () => {
    await tf.setBackend('cpu');
    const [q, k, v] = [[2, 6, 5, 8], [2, 2, 5, 8], [2, 2, 5, 8]].map((s, i) => tf.tensor4d(randn(30 + i, s), s as [number, number, number, number]));
    const a = causalAttention(q, k, v).dataSync();
    const b = causalAttention(q, repeatKV(k, 3), repeatKV(v, 3)).dataSync();
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i])))).toBeLessThan(1e-6);
    const { cos, sin } = ropeTables(5, 8, 10000);
    const c = tf.tensor2d(cos, [5, 4]);
    const sn = tf.tensor2d(sin, [5, 4]);
    const [x1, x2] = tf.split(q, 2, 3);
    const ref = tf.concat([tf.sub(tf.mul(x1, tf.reshape(c, [1, 1, 5, 4])), tf.mul(x2, tf.reshape(sn, [1, 1, 5, 4]))), tf.add(tf.mul(x2, tf.reshape(c, [1, 1, 5, 4])), tf.mul(x1, tf.reshape(sn, [1, 1, 5, 4])))], 3).dataSync();
    expect(Array.from(rotary(q, c, sn).dataSync())).toEqual(Array.from(ref));
  });
});

describe('RoPE tables', () => {
  it('position 0 is the identity; angle p·θ^(−2i/d)', () => {
    const { cos, sin } = ropeTables(3, 4, 10000);
    expect(Array.from(cos.slice(0, 2))).toEqual([1, 1]);
    expect(sin[2]).toBeCloseTo(Math.sin(1), 6);
    expect(sin[3]).toBeCloseTo(Math.sin(1 / 100), 6);
  });
});
