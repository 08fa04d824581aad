import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { LREF5 } from '../data/labels.ts';
import { initBackend } from '../model/backend.ts';
import { TrainConfig } from '../model/config.ts';
import { makeOptimizer } from '../train/loop.ts';
import { sequenceLogProbs } from '../train/step.ts';
import { UserError } from '../util/errors.ts';
import { snapshotParams as snapshot } from '../model/lm.ts';
import { dpoFixture, type DpoFixture } from './dpo-fixture.ts';
import {
  DpoConfig,
  dpoStep,
  chosenTokenCounts,
  minePreferences,
  pickDpoPoint,
  preferenceBatch,
  runDpo,
  sequenceLogpsOf,
  type PreferencePair,
} from './dpo.ts';
import { trainLabelModel, type RelevanceModel } from './relevance-model.ts';

let fx: DpoFixture;
let stage2: RelevanceModel;
let prefs: PreferencePair[];

beforeAll(async () => {
  await initBackend('wasm');
  fx = dpoFixture(50, 7);
  // A briefly trained smoke model stands in for the stage-2 model: it has a real, imperfect ranking.
  const trainConfig = TrainConfig.parse({ ...fx.ctx.trainConfig, steps: 30, warmup: 3 });
  const sft = trainLabelModel(fx.tok, LREF5, fx.template, fx.pairs, { modelConfig: fx.ctx.modelConfig, trainConfig });
  sft.optimizer.dispose();
  stage2 = sft.rm;
  prefs = minePreferences(fx.ctx, stage2, fx.pairs);
});

afterAll(() => stage2?.model.dispose());

describe('DPO training (smoke preset, 50 generated pairs)', () => {
  it('mines enough wrong answers from the stage-2 model to train on', () => {
    expect(prefs.length).toBeGreaterThanOrEqual(16);
    expect(prefs.length).toBeLessThan(50);
  });

  it('starts at loss ln 2 (policy = reference), then rewards/margins rise; the reference is untouched', () => {
    const before = snapshot(stage2.model);
    const { model, log } = runDpo(fx.ctx, stage2, prefs, { batchSize: 8, epochs: 4, lr: 2e-3 });
    try {
      const perEpoch = Math.floor(prefs.length / 8);
      expect(log).toHaveLength(4 * perEpoch);
      // Step 0: the copy equals the reference and the precomputed values line up with the batch.
      expect(log[0].loss).toBeCloseTo(Math.LN2, 5);
      expect(Math.abs(log[0]['rewards/margins'])).toBeLessThan(1e-5);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const margins = log.map((l) => l['rewards/margins']);
      expect(mean(margins.slice(-3))).toBeGreaterThan(mean(margins.slice(0, 3)) + 0.05);
      expect(mean(log.slice(-3).map((l) => l.loss))).toBeLessThan(Math.LN2 - 0.02);
      expect(log.at(-1)!['rewards/accuracies']).toBeGreaterThan(0.5);
      expect(log.at(-1)!.epoch).toBeCloseTo(4, 6);

      // The caller's model (the reference) is bit-identical; the trained copy moved.
      expect(model.model).not.toBe(stage2.model);
      expect(snapshot(stage2.model)).toEqual(before);
      const after = snapshot(model.model);
      const moved = [...after].filter(([name, v]) => v.some((x, i) => Math.abs(x - before.get(name)![i]) > 1e-6));
      expect(moved.length).toBeGreaterThan(after.size / 2);
      expect(model.tokenizer).toBe(stage2.tokenizer);
    } finally {
      model.model.dispose();
    }
  });

  it('precomputed reference log-probs equal a fresh computation, pair by pair', () => {
    const batched = sequenceLogpsOf(stage2.model, prefs, fx.tok.padId, 32);
    prefs.slice(0, 8).forEach((p, i) => {
      const lp = sequenceLogProbs(stage2.model, preferenceBatch([p], stage2.model.config.contextLength, fx.tok.padId));
      const [chosen, rejected] = lp.dataSync();
      lp.dispose();
      expect(batched.chosen[i]).toBeCloseTo(chosen, 4);
      expect(batched.rejected[i]).toBeCloseTo(rejected, 4);
      expect(chosen).toBeLessThan(0);
    });
    // batch size does not matter
    const small = sequenceLogpsOf(stage2.model, prefs, fx.tok.padId, 3);
    small.chosen.forEach((x, i) => expect(x).toBeCloseTo(batched.chosen[i], 4));
  });

  it('a DPO step leaves no tensors behind', () => {
    const policy = stage2.model.clone();
    const optimizer = makeOptimizer(policy, TrainConfig.parse({ weightDecay: 0 }));
    const batch = prefs.slice(0, 4);
    const ref = sequenceLogpsOf(stage2.model, batch, fx.tok.padId, 4);
    const opts = { beta: 0.1, lr: 1e-3, clipNorm: 1, padId: fx.tok.padId };
    dpoStep(policy, optimizer, batch, ref, opts); // warm-up: any lazily created backend state
    const before = tf.memory().numTensors;
    const r = dpoStep(policy, optimizer, batch, ref, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(r.loss) && r.gradNorm > 0).toBe(true);
    optimizer.dispose();
    policy.dispose();
  });

  it('rpoAlpha adds α · the mean per-token NLL of the chosen completions to the DPO loss (RPO)', () => {
    const batch = prefs.slice(0, 4);
    const ref = sequenceLogpsOf(stage2.model, batch, fx.tok.padId, 4);
    const opts = { beta: 0.1, lr: 1e-3, clipNorm: 1, padId: fx.tok.padId };
    const step = (rpoAlpha: number) => {
      const policy = stage2.model.clone();
      const optimizer = makeOptimizer(policy, TrainConfig.parse({ weightDecay: 0 }));
      const r = dpoStep(policy, optimizer, batch, ref, { ...opts, rpoAlpha });
      optimizer.dispose();
      policy.dispose();
      return r.loss;
    };
    // The policy starts as the reference, so the DPO part is exactly ln 2 and the rest is the NLL term.
    const pb = preferenceBatch(batch, stage2.model.config.contextLength, fx.tok.padId);
    const counts = chosenTokenCounts(pb, batch.length);
    const nll = ref.chosen.reduce((acc, lp, i) => acc - lp / counts[i], 0) / batch.length;
    expect(nll).toBeGreaterThan(0);
    expect(step(0)).toBeCloseTo(Math.LN2, 5);
    expect(step(0.5)).toBeCloseTo(Math.LN2 + 0.5 * nll, 4);
    expect(DpoConfig.parse({}).rpoAlpha).toBe(0);
  });

  it('runDpo leaves nothing behind but the returned model', () => {
    const before = tf.memory().numTensors;
    const { model } = runDpo(fx.ctx, stage2, prefs.slice(0, 8), { batchSize: 4, epochs: 1 });
    model.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('defaults: β 0.1, 2 epochs, lr a tenth of the run SFT rate; a stopped signal runs no step', () => {
    const cfg = DpoConfig.parse({});
    expect([cfg.version, cfg.beta, cfg.epochs, cfg.batchSize, cfg.weightDecay]).toEqual([1, 0.1, 2, 8, 0]);
    expect(() => DpoConfig.parse({ betta: 0.2 })).toThrow();
    const one = runDpo(fx.ctx, stage2, prefs.slice(0, 8), { batchSize: 8, epochs: 1, warmupRatio: 0 });
    expect(one.log).toHaveLength(1);
    expect(one.log[0].learning_rate).toBeCloseTo(fx.ctx.trainConfig.lr / 10, 12);
    one.model.model.dispose();
    const ac = new AbortController();
    ac.abort();
    const stopped = runDpo({ ...fx.ctx, signal: ac.signal }, stage2, prefs, {});
    expect(stopped.log).toHaveLength(0);
    expect(fx.lines.at(-1)).toMatch(/interrupted after 0 of \d+ steps/);
    stopped.model.model.dispose();
  });

  it('no preference pairs is a user error', () => {
    expect(() => runDpo(fx.ctx, stage2, [])).toThrow(UserError);
  });

  it('validate: checks the policy at step 0, every `every` steps and the last, and keeps the chosen step’s weights', () => {
    // Scripted valid figures: step 4 de-biases most within the 1-point accuracy band; step 6 de-biases
    // more but loses 3 points of accuracy, so it must not be kept.
    const script = [
      { accuracy: 0.5, optimisticShare: 0.5 },
      { accuracy: 0.5, optimisticShare: 0.45 },
      { accuracy: 0.492, optimisticShare: 0.3 },
      { accuracy: 0.47, optimisticShare: 0.1 },
      { accuracy: 0.5, optimisticShare: 0.3 },
    ];
    const seen: Map<string, Float32Array>[] = [];
    const check = (rm: RelevanceModel) => {
      seen.push(snapshot(rm.model));
      return script[seen.length - 1];
    };
    const before = tf.memory().numTensors;
    const r = runDpo(fx.ctx, stage2, prefs.slice(0, 16), { batchSize: 2, epochs: 1, lr: 2e-3, validate: { every: 2 } }, check);
    try {
      expect(r.log).toHaveLength(8);
      expect(r.curve!.map((c) => c.step)).toEqual([0, 2, 4, 6, 8]);
      expect(r.bestStep).toBe(4);
      expect(snapshot(r.model.model)).toEqual(seen[2]);
      expect(seen[2]).not.toEqual(seen[4]); // the last step's weights differ: the restore did something
      expect(fx.lines.some((l) => /kept the weights of step 4/.test(l))).toBe(true);
    } finally {
      r.model.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => runDpo(fx.ctx, stage2, prefs.slice(0, 8), { validate: { every: 2 } })).toThrow(/no held-out pairs/);
  });

  it('pickDpoPoint: lowest optimistic share within the accuracy band; the start when nothing beats it', () => {
    const p = (step: number, accuracy: number, optimisticShare: number) => ({ step, accuracy, optimisticShare });
    expect(pickDpoPoint([p(0, 0.5, 0.5), p(20, 0.49, 0.4), p(40, 0.489, 0.2)], 0.01).step).toBe(20);
    expect(pickDpoPoint([p(0, 0.5, 0.5), p(20, 0.45, 0.1), p(40, 0.5, 0.6)], 0.01).step).toBe(0);
    expect(pickDpoPoint([p(0, 0.5, 0.5), p(20, 0.6, 0.3), p(40, 0.55, 0.3)], 0.01).step).toBe(20); // ties: the earlier
  });
});
