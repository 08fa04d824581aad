import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.ts';
import { LREF5 } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { presetFor, smoke } from '../model/presets.ts';
import { TrainConfig } from '../model/config.ts';
import { loadTemplate } from '../text/prompts.ts';
import { balancedBias, predictLabels, trainLabelModel, trainRunTokenizer } from './relevance-model.ts';

describe('the balanced decision (train.decision "balanced")', () => {
  it('offsets are −log of each grade’s add-one-smoothed share, in scheme order', () => {
    // 6 Exact, 2 Marginal, none of the rest: counts + 1 = 7, 1, 3, 1, 1 of 13.
    const bias = balancedBias(LREF5, [...Array(6).fill('Exact'), 'Marginal', 'Marginal']);
    expect(bias.map((b) => Math.exp(-b) * 13)).toEqual([7, 1, 3, 1, 1].map((c) => expect.closeTo(c, 9)));
  });

  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('a model trained on skewed grades predicts the rare grades more often, with the same probabilities', () => {
    const ds = generateDataset({ pairs: 150, seed: 4, noise: 0 });
    const template = loadTemplate('label');
    const tok = trainRunTokenizer(ds.pairs, [template], 300);
    const modelConfig = { ...presetFor('smoke', tok.vocabSize).model, contextLength: 128 };
    const trainConfig = TrainConfig.parse({ ...smoke.train, steps: 30, warmup: 2 });
    // Nine in ten training labels are "Exact": a plain argmax says Exact almost everywhere.
    const labels = ds.pairs.map((p, i) => (i % 10 === 0 ? p.label : 'Exact'));
    const before = tf.memory().numTensors;
    const plain = trainLabelModel(tok, LREF5, template, ds.pairs, { modelConfig, trainConfig, labels });
    const balanced = trainLabelModel(tok, LREF5, template, ds.pairs, { modelConfig, trainConfig, labels, decision: 'balanced' });
    expect(plain.rm.labelBias).toBeUndefined();
    expect(balanced.rm.labelBias).toEqual(balancedBias(LREF5, labels));
    const a = predictLabels(plain.rm, ds.pairs);
    const b = predictLabels(balanced.rm, ds.pairs);
    // Same seed, same data: the same model; only the decision differs.
    a.forEach((p, i) => LREF5.labels.forEach((l) => expect(b[i].probs[l]).toBeCloseTo(p.probs[l], 6)));
    const exact = (ps: typeof a) => ps.filter((p) => p.label === 'Exact').length;
    expect(exact(b)).toBeLessThan(exact(a));
    // Each balanced label is the argmax of log p + bias.
    b.forEach((p) => {
      const s = LREF5.labels.map((l, j) => Math.log(p.probs[l]) + balanced.rm.labelBias![j]);
      expect(p.label).toBe(LREF5.labels[s.indexOf(Math.max(...s))]);
    });
    for (const r of [plain, balanced]) {
      r.rm.model.dispose();
      r.optimizer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
