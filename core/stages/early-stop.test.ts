import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.ts';
import { LREF5 } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { presetFor, smoke } from '../model/presets.ts';
import { TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { loadTemplate } from '../text/prompts.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { predictLabels, trainLabelModel, trainRunTokenizer } from './relevance-model.ts';

describe('trainLabelModel with early stopping on held-out pairs', () => {
  const ds = generateDataset({ pairs: 120, seed: 3, noise: 0 });
  const train = ds.pairs.slice(0, 90);
  const valid = ds.pairs.slice(90);
  const template = loadTemplate('label');
  let tok: Tokenizer;
  beforeAll(async () => {
    await initBackend('wasm');
    tok = trainRunTokenizer(train, [template], 300);
  });

  it('scores every `every` steps, stops after `patience` checks without a gain and restores the best weights', () => {
    const modelConfig = { ...presetFor('smoke', tok.vocabSize).model, contextLength: 128 };
    const trainConfig = TrainConfig.parse({ ...smoke.train, steps: 20, warmup: 2 });
    const before = tf.memory().numTensors;
    // A crafted score sequence: best after step 4, then two checks without a gain → stop at step 8.
    const scores = [0.1, 0.5, 0.3, 0.2, 0.9];
    let calls = 0;
    const early = trainLabelModel(tok, LREF5, template, train, {
      modelConfig,
      trainConfig,
      validate: { pairs: valid, every: 2, patience: 2, score: (gold, pred) => (expect(pred).toHaveLength(gold.length), scores[calls++]) },
    });
    expect(early.curve?.map((c) => c.score)).toEqual(scores.slice(0, 4));
    expect(early.bestStep).toBe(4);
    expect(early.losses).toHaveLength(8);
    // The kept weights are those after step 4: the same as a plain run stopped there.
    const plain = trainLabelModel(tok, LREF5, template, train, { modelConfig, trainConfig, init: new DecoderLM(modelConfig), hooks: { stopStep: 4 } });
    expect(plain.losses).toEqual(early.losses.slice(0, 4));
    const a = predictLabels(early.rm, valid).map((p) => Object.values(p.probs));
    const b = predictLabels(plain.rm, valid).map((p) => Object.values(p.probs));
    a.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(b[i][j], 5)));
    for (const r of [early, plain]) {
      r.rm.model.dispose();
      r.optimizer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
