import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { BINARY } from '../../data/labels.ts';
import type { PairRecord } from '../../data/schema.ts';
import { initBackend } from '../../model/backend.ts';
import { ModelConfig, TrainConfig } from '../../model/config.ts';
import { loadTemplate } from '../../text/prompts.ts';
import { Rng } from '../../util/rng.ts';
import { trainRunTokenizer } from '../relevance-model.ts';
import { crossEncoderInputs, loadCrossEncoder, predictCrossEncoder, saveCrossEncoder, trainCrossEncoder } from './cross-encoder.ts';

/** Relevant iff the title names a kitchen thing: one word decides, wherever it sits in the title. */
function toyPairs(n: number, seed: number): PairRecord[] {
  const rng = new Rng(seed);
  const kitchen = ['kettle', 'toaster', 'blender'];
  const garden = ['shovel', 'hose', 'rake'];
  const colours = ['red', 'blue', 'green', 'black'];
  return Array.from({ length: n }, (_, i) => {
    const relevant = rng.chance(0.5);
    const noun = rng.pick(relevant ? kitchen : garden);
    const colour = rng.pick(colours);
    return {
      pair_id: `p${i}`,
      query_id: `q${i % 7}`,
      query: 'kitchen appliance',
      product_id: `x${i}`,
      title: rng.chance(0.5) ? `${colour} ${noun}` : `${noun} in ${colour}`,
      label: relevant ? 'Relevant' : 'Irrelevant',
    };
  });
}

describe('cross-encoder baseline', () => {
  const template = loadTemplate('label');
  const train = toyPairs(64, 1);
  const test = toyPairs(32, 2);
  const tok = trainRunTokenizer(train, [template], 340);
  const modelConfig = ModelConfig.parse({ vocabSize: tok.vocabSize, contextLength: 24, dModel: 16, nHeads: 2, nLayers: 1, dropout: 0, seed: 3 });
  const trainConfig = TrainConfig.parse({ seed: 5, weightDecay: 0 });
  let dir: string;

  beforeAll(async () => {
    await initBackend('wasm'); // ~10x faster than cpu for training
    dir = mkdtempSync(join(tmpdir(), 'lref-ce-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the label prompt without its <answer> marker, fitted to the context', () => {
    const [ids] = crossEncoderInputs(tok, template, train.slice(0, 1), 24);
    expect(ids[0]).toBe(tok.bosId);
    expect(ids).not.toContain(tok.tokenId('<answer>'));
    expect(ids).toContain(tok.tokenId('<product>'));
    const short = crossEncoderInputs(tok, template, [{ ...train[0], title: 'kettle '.repeat(40) }], 20)[0];
    expect(short.length).toBe(20);
  });

  it('learns a separable toy task, the same twice for the same seed, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const cfg = { steps: 60, lr: 1e-2, batchSize: 16, warmup: 5 };
    const a = trainCrossEncoder(tok, BINARY, template, train, cfg, { modelConfig, trainConfig });
    const preds = predictCrossEncoder(a.model, test, 10);
    const acc = preds.filter((p, i) => p.label === test[i].label).length / test.length;
    expect(acc).toBeGreaterThanOrEqual(0.95);
    expect(a.losses[0]).toBeGreaterThan(0.5); // starts near ln 2
    expect(a.losses.slice(-5).reduce((x, y) => x + y, 0) / 5).toBeLessThan(0.1);
    for (const p of preds) expect(p.probs.Relevant + p.probs.Irrelevant).toBeCloseTo(1, 5);

    const b = trainCrossEncoder(tok, BINARY, template, train, cfg, { modelConfig, trainConfig });
    expect(b.losses).toEqual(a.losses);
    b.model.clf.dispose();

    saveCrossEncoder(dir, a.model, cfg.steps);
    const loaded = loadCrossEncoder(dir);
    const again = predictCrossEncoder(loaded, test);
    again.forEach((p, i) => expect(p.probs.Relevant).toBeCloseTo(preds[i].probs.Relevant, 6));
    loaded.clf.dispose();
    // A decision rule saved with the head is applied on load: a huge offset on the last label wins every pair.
    const ruledDir = join(dir, 'ruled');
    saveCrossEncoder(ruledDir, { ...a.model, decision: { version: 1, offsets: [0, 100], fitted_on: 'valid', n: 1, macro_f1: 0 } }, cfg.steps);
    const ruled = loadCrossEncoder(ruledDir);
    expect(new Set(predictCrossEncoder(ruled, test).map((p) => p.label))).toEqual(new Set([BINARY.labels[1]]));
    ruled.clf.dispose();
    a.model.clf.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with earlyStop, scores valid every `every` steps and keeps the best weights, as label SFT does', () => {
    const before = tf.memory().numTensors;
    const cfg = { steps: 40, lr: 1e-2, batchSize: 16, warmup: 2 };
    // A crafted score sequence: best after step 10, then two checks without a gain → stop at step 20.
    const scores = [0.2, 0.9, 0.5, 0.4];
    const seen: number[][] = []; // P(Relevant) per valid pair at each check
    const early = trainCrossEncoder(tok, BINARY, template, train, { ...cfg, earlyStop: { every: 5, patience: 2 } }, {
      modelConfig,
      trainConfig,
      validate: {
        pairs: test,
        score: (gold, pred) => (expect(pred).toHaveLength(gold.length), seen.push(pred.map((p) => p.probs.Relevant)), scores[seen.length - 1]),
      },
    });
    expect(early.curve?.map((c) => c.step)).toEqual([5, 10, 15, 20]);
    expect(early.bestStep).toBe(10);
    expect(early.losses).toHaveLength(20);
    // The kept weights, head included, are those scored after step 10, not the last ones.
    const kept = predictCrossEncoder(early.model, test).map((p) => p.probs.Relevant);
    kept.forEach((x, i) => expect(x).toBeCloseTo(seen[1][i], 6));
    expect(Math.max(...kept.map((x, i) => Math.abs(x - seen[3][i])))).toBeGreaterThan(1e-3);
    // Without valid pairs the whole schedule runs.
    const none = trainCrossEncoder(tok, BINARY, template, train, { ...cfg, steps: 12, earlyStop: { every: 5, patience: 1 } }, { modelConfig, trainConfig });
    expect(none.losses).toHaveLength(12);
    expect(none.curve).toBeUndefined();
    for (const r of [early, none]) r.model.clf.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees its model when interrupted', () => {
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    expect(() =>
      trainCrossEncoder(tok, BINARY, template, train, { steps: 10 }, { modelConfig, trainConfig, signal: ctl.signal, onStep: (s) => s === 2 && ctl.abort() }),
    ).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});
