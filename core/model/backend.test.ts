import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.LREF_BACKEND;
  });

  it('honours an explicit preference and returns the running backend', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('reads LREF_BACKEND when no argument is given', async () => {
    process.env.LREF_BACKEND = 'cpu';
    expect(await initBackend()).toBe('cpu');
  });

  it('wasm batched matmul (per-matrix fast path) equals the cpu result; flagged and broadcast cases still work', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[6, 5, 3], [6, 3, 4], false, false],
      [[2, 3, 7, 5], [2, 3, 5, 2], false, false],
      [[4, 5, 3], [4, 4, 3], false, true],
      [[4, 3, 5], [4, 3, 2], true, false],
      [[3, 5, 3], [1, 3, 4], false, false],
      [[1, 5, 3], [1, 3, 4], false, false],
    ];
    const run = () =>
      cases.map(([sa, sb, ta, tb], k) =>
        tf.tidy(() => {
          const fill = (shape: number[], salt: number) =>
            tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i * 0.37 + salt + k)), shape);
          return Array.from(tf.matMul(fill(sa, 1), fill(sb, 2), ta, tb).dataSync());
        }),
      );
    await initBackend('cpu');
    const want = run();
    await initBackend('wasm');
    const got = run();
    got.forEach((g, k) => {
      expect(g.length).toBe(want[k].length);
      g.forEach((x, i) => expect(Math.abs(x - want[k][i])).toBeLessThan(1e-5));
    });
  });

  it('fails loudly for a backend that cannot run', async () => {
    await expect(initBackend('no-such-backend')).rejects.toThrow(/backend 'no-such-backend' is not available/);
  });

  it('without a preference picks the best rung available here', async () => {
    const name = await initBackend();
    // tfjs-node is optional (usually absent here); when absent, wasm is the best that loads
    // unless something registered the native backend.
    const expected = tf.findBackendFactory('tensorflow')
      ? 'tensorflow'
      : tf.findBackendFactory('lref-native')
        ? 'lref-native'
        : 'wasm';
    expect(name).toBe(expected);
  });
});
