import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from './backend.ts';
import { addBias, bmm, embedOneHot, gelu, layerNorm, matmul, matmulBT, tokenLogProbs } from './ops.ts';
import { Rng } from '../util/rng.ts';

function randn(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal() * scale), shape);
}

/** max |a−b| / max(1, max|b|): relative to the reference's magnitude. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let err = 0;
  let mag = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    mag = Math.max(mag, Math.abs(y[i]));
  }
  return err / Math.max(1, mag);
}

/** Compares f (custom gradient) with g (tf autodiff of the naive op): values and input gradients. */
function compare(f: (...xs: tf.Tensor[]) => tf.Tensor, g: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], tol = 1e-5) {
  tf.tidy(() => {
    const rng = new Rng(99);
    const probe = randn(rng, f(...inputs).shape); // a random upstream gradient, not just ones
    const loss = (h: typeof f) => (...xs: tf.Tensor[]) => tf.sum(tf.mul(h(...xs), probe)) as tf.Scalar;
    expect(relErr(f(...inputs), g(...inputs))).toBeLessThan(tol);
    const ga = tf.grads(loss(f))(inputs);
    const gb = tf.grads(loss(g))(inputs);
    ga.forEach((x, i) => expect(relErr(x, gb[i]), `gradient of input ${i}`).toBeLessThan(tol));
  });
}

for (const backend of ['cpu', 'wasm']) {
  describe(`custom-gradient ops match tf autodiff on ${backend}`, () => {
    it('runs on the requested backend', async () => {
      expect(await initBackend(backend)).toBe(backend);
    });
    const rng = new Rng(5);

    it('matmul (explicit-transpose 2-D)', () => {
      compare((a, b) => matmul(a as tf.Tensor2D, b as tf.Tensor2D), (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [
        randn(rng, [7, 5]),
        randn(rng, [5, 3]),
      ]);
      // the other dB ordering (K > N)
      compare((a, b) => matmul(a as tf.Tensor2D, b as tf.Tensor2D), (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [
        randn(rng, [7, 9]),
        randn(rng, [9, 2]),
      ]);
    });

    it('matmulBT (tied LM head)', () => {
      compare(
        (a, b) => matmulBT(a as tf.Tensor2D, b as tf.Tensor2D),
        (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true),
        [randn(rng, [6, 4]), randn(rng, [9, 4])],
      );
    });

    it('bmm (explicit-transpose batched)', () => {
      compare((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [
        randn(rng, [3, 5, 4]),
        randn(rng, [3, 4, 6]),
      ]);
    });

    it('addBias', () => {
      compare((x, b) => addBias(x, b), (x, b) => tf.add(x, b), [randn(rng, [8, 5]), randn(rng, [5])]);
    });

    it('embedOneHot equals a gather (and on cpu its gradient equals the gather gradient)', () => {
      const ids = tf.tensor1d([3, 0, 7, 3, 9, 3], 'int32');
      const table = randn(rng, [10, 4]);
      // wasm has no gather gradient (UnsortedSegmentSum) — which is why the one-hot path exists —
      // so there the reference is autodiff of the naive one-hot matmul.
      const naive =
        backend === 'cpu'
          ? (t: tf.Tensor) => tf.gather(t, ids)
          : (t: tf.Tensor) => tf.matMul(tf.cast(tf.oneHot(ids, 10), 'float32'), t as tf.Tensor2D);
      compare((t) => embedOneHot(ids, t as tf.Tensor2D), naive, [table]);
      // Row 3 appears three times: its gradient is the sum of three upstream rows.
      const g = tf.grad((t: tf.Tensor) => tf.sum(embedOneHot(ids, t as tf.Tensor2D)))(table);
      expect(Array.from(g.dataSync().slice(12, 16))).toEqual([3, 3, 3, 3]);
      expect(Array.from(g.dataSync().slice(4, 8))).toEqual([0, 0, 0, 0]);
    });

    it('gelu equals the tanh form 0.5x(1+tanh(√(2/π)(x+0.044715x³)))', () => {
      const naive = (x: tf.Tensor) =>
        tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
      compare((x) => gelu(x), naive, [randn(rng, [4, 9], 2)]);
    });

    it('layerNorm', () => {
      const naive = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
      };
      compare(
        (x, g, b) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D),
        naive,
        [randn(rng, [6, 8], 3), randn(rng, [8]), randn(rng, [8])],
      );
    });

    it('tokenLogProbs equals logSoftmax picked at the target', () => {
      const targets = tf.tensor1d([2, 0, 5, 5], 'int32');
      const naive = (z: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(z), tf.cast(tf.oneHot(targets, 6), 'float32')), -1);
      compare((z) => tokenLogProbs(z as tf.Tensor2D, targets), naive, [randn(rng, [4, 6], 3)]);
    });

    it('tokenLogProbs is stable for huge logits', () => {
      const z = tf.tensor2d([
        [1000, 0, -1000],
        [-500, 500, 0],
      ]);
      const lp = tokenLogProbs(z, tf.tensor1d([1, 1], 'int32')).dataSync();
      expect(lp[0]).toBeCloseTo(-1000, 3);
      expect(lp[1]).toBeCloseTo(0, 5);
    });
  });
}
