import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { cacheAppend, raggedSoftmax } from './native-ops.ts';
import { Rng } from '../util/rng.ts';

// The ragged softmax and cache write of batched decoding (new kernels) against the tfjs cpu backend: values and gradients.
const status = nativeBackendStatus();

const shape = [3, 4, 1, 9]; // [B, H, T, Tk]
const lengths = [9, 1, 5];

async function run(backend: string) {
  await tf.setBackend(backend);
  const rng = new Rng(4);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Array.from({ length: n }, () => rng.normal() * 3), shape);
  const dy = tf.tensor(Array.from({ length: n }, () => rng.normal()), shape);
  const y = raggedSoftmax(x, lengths);
  // Gradient of Σ y·dy: the vector-Jacobian product with an arbitrary upstream gradient.
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(raggedSoftmax(t, lengths), dy)))(x);
  const out = { y: Array.from(y.dataSync()), dx: Array.from(dx.dataSync()) };
  tf.dispose([x, dy, y, dx]);
  return out;
}

describe.skipIf(!status.registered)('raggedSoftmax on lref-native', () => {
  it('matches the cpu backend (bias −1e9 + softmax) in values and gradients; masked keys get 0 and no gradient', async () => {
    const want = await run('cpu');
    const before = tf.memory().numTensors;
    const got = await run(NATIVE_BACKEND);
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['y', 'dx'] as const) got[k].forEach((v, i) => expect(Math.abs(v - want[k][i])).toBeLessThan(1e-6));
    const Tk = shape[3];
    const per = shape[1] * shape[2];
    lengths.forEach((len, b) => {
      for (let r = 0; r < per; r++) {
        const row = got.y.slice((b * per + r) * Tk, (b * per + r + 1) * Tk);
        expect(row.slice(0, len).reduce((a, c) => a + c, 0)).toBeCloseTo(1, 5);
        expect(row.slice(len)).toEqual(new Array(Tk - len).fill(0));
        expect(got.dx.slice((b * per + r) * Tk + len, (b * per + r + 1) * Tk).every((v) => v === 0)).toBe(true);
      }
    });
    // a single-key row is certain
    expect(got.y[per * Tk]).toBe(1);
  });

  it('refuses lengths outside 1..Tk', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const x = tf.zeros([2, 1, 1, 4]);
    expect(() => raggedSoftmax(x, [0, 4])).toThrow(/lengths/);
    expect(() => raggedSoftmax(x, [5, 4])).toThrow(/lengths/);
    expect(() => raggedSoftmax(x, [4])).toThrow(/lengths/);
    x.dispose();
  });
});

describe.skipIf(!status.registered)('cacheAppend on lref-native', () => {
  async function append(backend: string, slots: number) {
    await tf.setBackend(backend);
    const rng = new Rng(8);
    const lengths = [0, 3, slots - 1];
    // A ragged cache: row b holds lengths[b] entries, zeros after (what the write relies on).
    const cached = tf.tensor(Array.from({ length: 3 * 4 * 5 }, (_, i) => (Math.floor(i / 5) % 4 < lengths[Math.floor(i / 20)] ? rng.normal() : 0)), [3, 4, 5]);
    const x = tf.tensor(Array.from({ length: 3 * 5 }, () => rng.normal()), [3, 1, 5]);
    const dy = tf.tensor(Array.from({ length: 3 * slots * 5 }, () => rng.normal()), [3, slots, 5]);
    const y = cacheAppend(cached, x, lengths, slots, 1);
    const [dc, dx] = tf.grads((c: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(cacheAppend(c, v, lengths, slots, 1), dy)))([cached, x]);
    const out = { shape: y.shape, y: Array.from(y.dataSync()), dc: Array.from(dc.dataSync()), dx: Array.from(dx.dataSync()) };
    tf.dispose([cached, x, dy, y, dc, dx]);
    return out;
  }

  it('equals the cpu composite (grow, one-hot write) exactly, values and gradients', async () => {
    for (const slots of [4, 6]) {
      const want = await append('cpu', slots);
      const got = await append(NATIVE_BACKEND, slots);
      expect(got.shape).toEqual([3, slots, 5]);
      expect(got).toEqual(want);
    }
  });
});
