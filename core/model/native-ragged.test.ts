import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { cacheAppend, cacheFit, raggedSoftmax } from './native-ops.ts';
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

// The kv-heads layout of the imported models ([B,H,t,hd], token axis 2) and the in-place write of
// decoding (LrefCacheWrite: no gradient, it is inference only) against the same cpu composite.
describe.skipIf(!status.registered)('cacheAppend in place and on any token axis, cacheFit', () => {
  const lengths = [0, 3, 5];
  function ragged(shape: number[], axis: number, seed: number): tf.Tensor {
    const rng = new Rng(seed);
    const buf = tf.buffer(shape);
    const n = shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      const loc = buf.indexToLoc(i);
      buf.values[i] = loc[axis] < lengths[loc[0]] ? rng.normal() : 0;
    }
    return buf.toTensor();
  }

  async function write(backend: string, shape: number[], axis: number, slots: number, inPlace: boolean) {
    await tf.setBackend(backend);
    const cached = ragged(shape, axis, 9);
    const rng = new Rng(10);
    const xShape = shape.map((n, i) => (i === axis ? 1 : n));
    const x = tf.tensor(Array.from({ length: xShape.reduce((a, b) => a * b, 1) }, () => rng.normal()), xShape);
    // A copy: written in place, `cached` itself changes (the caller owns and drops it).
    const y = cacheAppend(inPlace ? tf.tidy(() => tf.add(cached, 0)) : cached, x, lengths, slots, axis, inPlace);
    const out = { shape: y.shape, y: Array.from(y.dataSync()) };
    tf.dispose([cached, x, y]);
    return out;
  }

  it('the write equals the cpu composite exactly, in place or copied, token axis 1 or 2', async () => {
    for (const [shape, axis] of [[[3, 6, 4], 1], [[3, 2, 6, 4], 2]] as const) {
      for (const slots of [6, 8]) {
        const want = await write('cpu', [...shape], axis, slots, false);
        for (const inPlace of [false, true]) expect(await write(NATIVE_BACKEND, [...shape], axis, slots, inPlace)).toEqual(want);
      }
    }
  });

  it('in place, writes into the buffer it was given and makes no new one; a shared buffer is copied instead', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const cached = tf.tidy(() => tf.add(ragged([3, 6, 4], 1, 9), 0));
    const x = tf.ones([3, 1, 4]);
    const before = tf.memory().numDataBuffers;
    const y = cacheAppend(cached, x, lengths, 6, 1, true);
    expect(y.dataId).toBe(cached.dataId); // y aliases cached's data
    expect(tf.memory().numDataBuffers).toBe(before);
    expect(Array.from(cached.dataSync()).slice((6 + 3) * 4, (6 + 4) * 4)).toEqual([1, 1, 1, 1]); // row 1, slot 3
    const alias = tf.clone(y); // two tensors on one buffer now: the next write must not touch it
    const seen = Array.from(alias.dataSync());
    const z = cacheAppend(y, tf.zeros([3, 1, 4]), [1, 4, 5], 6, 1, true);
    expect(z.dataId).not.toBe(y.dataId);
    expect(Array.from(alias.dataSync())).toEqual(seen);
    expect(Array.from(z.dataSync()).slice(0, 8)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]); // row 0: slot 0 kept, slot 1 written
    tf.dispose([cached, x, y, alias, z]);
  });

  async function fit(backend: string, shape: number[], axis: number, slots: number) {
    await tf.setBackend(backend);
    const rng = new Rng(12);
    // Garbage after each row's length (a padded prefill's keys): must come out zero.
    const cached = tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
    const y = cacheFit(cached, lengths, slots, axis);
    const out = { shape: y.shape, y: Array.from(y.dataSync()).map((v) => (v === 0 ? 0 : v)) }; // −0 (0·negative) is 0
    tf.dispose([cached, y]);
    return out;
  }

  it('cacheFit equals the cpu composite (pad or cut, padding zeroed), token axis 1 or 2', async () => {
    for (const [shape, axis] of [[[3, 5, 4], 1], [[3, 2, 5, 4], 2]] as const) {
      for (const slots of [5, 7]) {
        const want = await fit('cpu', [...shape], axis, slots);
        const got = await fit(NATIVE_BACKEND, [...shape], axis, slots);
        expect(got).toEqual(want);
        expect(got.shape[axis]).toBe(slots);
      }
    }
    await tf.setBackend(NATIVE_BACKEND);
    const c = tf.zeros([3, 5, 4]);
    expect(() => cacheFit(c, [1, 6, 2], 7, 1)).toThrow(/lengths/);
    c.dispose();
  });
});
