import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { TrainConfig } from './config.ts';
import { EncoderClassifier } from './encoder.ts';
import { makeOptimizer } from '../train/loop.ts';
import { optimizeStep } from '../train/step.ts';
import { Rng } from '../util/rng.ts';

const encoder = { vocabSize: 16, contextLength: 8, dModel: 16, nHeads: 2, nLayers: 1, dropout: 0, seed: 2 };

/** Class 1 iff token 9 occurs anywhere: needs attention over the whole (padded) row. */
function data(n: number, seed: number) {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const mask: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + rng.int(5);
    const r = Array.from({ length: len }, () => 1 + rng.int(8)); // tokens 1..8, never 9
    const y = rng.int(2);
    if (y) r[rng.int(len)] = 9;
    rows.push([...r, ...Array(8 - len).fill(0)]);
    mask.push([...Array(len).fill(1), ...Array(8 - len).fill(0)]);
    labels.push(y);
  }
  return { rows, mask, labels };
}

describe('EncoderClassifier', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('learns a bag-of-tokens task through the explicit step, without leaking', () => {
    const clf = new EncoderClassifier({ encoder, numClasses: 2 });
    const opt = makeOptimizer(clf, TrainConfig.parse({ weightDecay: 0 }));
    const d = data(32, 1);
    const ids = tf.tensor2d(d.rows, undefined, 'int32');
    const mask = tf.tensor2d(d.mask);
    const labels = tf.tensor1d(d.labels, 'int32');
    const before = tf.memory().numTensors;
    let loss = Infinity;
    for (let s = 0; s < 120 && loss > 0.05; s++) loss = optimizeStep(clf, opt, () => clf.loss(ids, mask, labels), { lr: 1e-2, clipNorm: 1 }).loss;
    expect(tf.memory().numTensors).toBe(before);
    expect(loss).toBeLessThan(0.05);
    const probs = clf.predictProba(ids, mask);
    const acc = probs.filter((p, i) => (p[1] > 0.5 ? 1 : 0) === d.labels[i]).length / probs.length;
    expect(acc).toBe(1);
    tf.dispose([ids, mask, labels]);
    opt.dispose();
    clf.dispose();
  });

  it('padding under the mask does not change predictions (mean and first pooling)', () => {
    for (const pooling of ['mean', 'first'] as const) {
      const clf = new EncoderClassifier({ encoder, numClasses: 3, pooling });
      const a = clf.predictProba(tf.tensor2d([[3, 4, 5, 0, 0]], undefined, 'int32'), tf.tensor2d([[1, 1, 1, 0, 0]]));
      const b = clf.predictProba(tf.tensor2d([[3, 4, 5, 7, 8]], undefined, 'int32'), tf.tensor2d([[1, 1, 1, 0, 0]]));
      a[0].forEach((p, j) => expect(b[0][j]).toBeCloseTo(p, 6));
      expect(a[0].reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
      expect(clf.params().size).toBe(clf.encoder.params().size + 2);
      clf.dispose();
    }
  });
});
