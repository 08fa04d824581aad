import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.ts';
import { LREF5, ESCI4, mapLabel } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { splitByQuery } from '../data/split.ts';
import { presetFor, smoke } from '../model/presets.ts';
import { TrainConfig } from '../model/config.ts';
import { loadTemplate } from '../text/prompts.ts';
import type { Teacher } from '../teachers/teacher.ts';
import { fromDataTeacher } from '../teachers/from-data.ts';
import type { StageContext } from './context.ts';
import { trainRunTokenizer } from './relevance-model.ts';
import { runSelection } from './select.ts';
import { SelectionRecord } from './select-rule.ts';

const AUX_STEPS = 6;

describe('runSelection end to end (smoke model: plumbing, not quality)', () => {
  const ds = generateDataset({ pairs: 340, seed: 5, noise: 0.1 });
  const split = splitByQuery(ds.pairs, { train: 0.88, valid: 0.12, test: 0, seed: 5 });
  const template = loadTemplate('label');
  let ctx: StageContext;
  const lines: string[] = [];
  const stages = new Set<string>();

  beforeAll(async () => {
    await initBackend('wasm'); // ~10x faster than cpu on the smoke model: the file stays well under 20 s
    const tok = trainRunTokenizer(split.train, [template], 300);
    const preset = presetFor('smoke', tok.vocabSize);
    ctx = {
      tokenizer: tok,
      scheme: LREF5,
      modelConfig: preset.model,
      trainConfig: TrainConfig.parse({ ...smoke.train }),
      seed: 7,
      backend: 'wasm',
      log: (l) => lines.push(l),
      progress: (stage) => stages.add(stage),
    };
  });

  it('trains IM, CI and MS, decides every pair, disposes every tensor, in well under 30 s', async () => {
    expect(split.train.length).toBeGreaterThan(280);
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const res = await runSelection(ctx, split.train, { auxSteps: AUX_STEPS }, { template, heldOut: split.valid });
    const seconds = (performance.now() - t0) / 1000;
    expect(tf.memory().numTensors).toBe(before);
    expect(seconds).toBeLessThan(30);

    expect(res.records).toHaveLength(split.train.length);
    res.records.forEach((r, i) => {
      expect(SelectionRecord.parse(r)).toEqual(r);
      expect(r.pair_id).toBe(split.train[i].pair_id);
      expect(LREF5.labels).toContain(r.im);
      expect(LREF5.labels).toContain(r.ci);
      expect(LREF5.labels).toContain(r.ms);
    });
    expect(res.selected.map((p) => p.pair_id)).toEqual(res.records.filter((r) => r.kept).map((r) => r.pair_id));
    expect(res.counts.total).toBe(split.train.length);
    expect(Object.values(res.counts.byReason).reduce((a, b) => a + b, 0)).toBe(split.train.length);
    // the default minimum (5%) holds whatever the undertrained aux models said
    expect(res.counts.kept).toBeGreaterThanOrEqual(Math.round(0.05 * split.train.length));

    // two folds (the default): each fold's models train on the other half, MS on the rule teacher's
    // label′ (never the annotation)
    const n = split.train.length;
    const [small, large] = [Math.floor(n / 2), Math.ceil(n / 2)];
    expect(res.aux.map((a) => [a.name, a.folds.map((f) => f.trainPairs + f.scoredPairs), a.steps])).toEqual([
      ['IM', [n, n], AUX_STEPS],
      ['CI', [n, n], AUX_STEPS],
      ['MS', [n, n], AUX_STEPS],
    ]);
    expect(res.aux.every((a) => a.folds.every((f) => f.trainPairs === small || f.trainPairs === large))).toBe(true);
    expect(res.msTeacher).toBe('rules');
    const targets = res.records.filter((r) => r.ms_target !== undefined);
    expect(targets).toHaveLength(n); // every pair was in the MS sample of the fold it is not in
    for (const r of targets) expect(r.ms_target).not.toBe(r.gold);
    for (const a of res.aux) {
      expect(Number.isFinite(a.finalLoss)).toBe(true);
      expect(a.heldOut!.n).toBe(split.valid.length);
    }

    expect(stages).toEqual(new Set(['select/IM1', 'select/CI1', 'select/MS1', 'select/IM2', 'select/CI2', 'select/MS2']));
    const summary = lines.find((l) => l.startsWith('select lref: kept '))!;
    expect(summary).toContain(`kept ${res.counts.kept}/${split.train.length}`);
    expect(lines.filter((l) => / on \d+ held-out pairs: accuracy /.test(l))).toHaveLength(3);
  });

  it('cross-fits: no aux model judges a pair it trained on, and each pair is judged once per aux kind', async () => {
    const K = 3;
    const res = await runSelection(ctx, split.train, { auxSteps: 2, auxFolds: K, auxSampleFraction: 0.5 }, { template });
    const fits = res.fits!;
    expect(fits).toHaveLength(3 * K);
    const fold = new Map(res.records.map((r) => [r.pair_id, r.fold]));
    for (const f of fits) {
      const trained = new Set(f.trained);
      expect(f.scored.filter((id) => trained.has(id))).toEqual([]);
      // trained only on other folds, judged only its own
      expect(f.trained.every((id) => fold.get(id) !== f.fold)).toBe(true);
      expect(f.scored.every((id) => fold.get(id) === f.fold)).toBe(true);
      // the sample is half the train set, drawn from the two thirds outside the fold
      expect(f.trained).toHaveLength(Math.round(0.5 * split.train.length));
    }
    for (const name of ['IM', 'CI', 'MS'] as const) {
      const scored = fits.filter((f) => f.name === name).flatMap((f) => f.scored);
      expect(scored.slice().sort()).toEqual(split.train.map((p) => p.pair_id).sort());
    }
    // folds are dealt evenly
    const sizes = [0, 1, 2].map((k) => res.records.filter((r) => r.fold === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("'random' keeps as many as 'lref' (seeded); 'all' and budgeted 'random' train nothing", async () => {
    const lref = await runSelection(ctx, split.train, { auxSteps: 2 }, { template });
    const random = await runSelection(ctx, split.train, { auxSteps: 2, selector: 'random' }, { template });
    expect(random.selected).toHaveLength(lref.selected.length);
    expect(random.records.every((r) => r.reason === (r.kept ? 'random: drawn' : 'random: not drawn'))).toBe(true);
    // the random draw is not the lref choice
    expect(random.selected.map((p) => p.pair_id)).not.toEqual(lref.selected.map((p) => p.pair_id));

    const budgeted = await runSelection(ctx, split.train, { selector: 'random', budget: 0.1 }, { template });
    const again = await runSelection(ctx, split.train, { selector: 'random', budget: 0.1 }, { template });
    expect(budgeted.selected).toHaveLength(Math.round(0.1 * split.train.length));
    expect(again.selected.map((p) => p.pair_id)).toEqual(budgeted.selected.map((p) => p.pair_id));
    expect(budgeted.aux).toEqual([]);

    const all = await runSelection(ctx, split.train, { selector: 'all' });
    expect(all.selected).toHaveLength(split.train.length);
    expect(all.counts.byReason).toEqual({ 'all: no selection': split.train.length });
  });

  it('works with another scheme and falls back to the rule teacher when the given one cannot name labels', async () => {
    const esci = split.train.slice(0, 80).map((p) => ({ ...p, label: mapLabel('lref5', 'esci4', p.label) }));
    const teacher: Pick<Teacher, 'id' | 'confusableLabel'> = fromDataTeacher();
    const before = tf.memory().numTensors;
    const res = await runSelection({ ...ctx, scheme: ESCI4 }, esci, { auxSteps: 2 }, { template, teacher });
    expect(tf.memory().numTensors).toBe(before);
    expect(res.msTeacher).toBe('rules');
    expect(lines).toContain('select: teacher from-data cannot name confusable labels; MS uses the rule teacher');
    for (const r of res.records) {
      expect(ESCI4.labels).toContain(r.im);
      if (r.ms_target !== undefined) expect(r.ms_target).toBe({ E: 'S', S: 'E', C: 'S', I: 'C' }[r.gold]);
    }
  });

  it('rejects a teacher answer that is the annotation itself, and an interrupted run leaks nothing', async () => {
    const lazy: Pick<Teacher, 'id' | 'confusableLabel'> = { id: 'lazy', confusableLabel: async (req) => req.gold };
    await expect(runSelection(ctx, split.train.slice(0, 40), { auxSteps: 2 }, { template, teacher: lazy })).rejects.toThrow(
      /teacher lazy: pair \S+: confusable label "\w+" must be a label of lref5 other than the annotated/,
    );
    const ac = new AbortController();
    const before = tf.memory().numTensors;
    const run = runSelection({ ...ctx, signal: ac.signal, progress: (_s, done) => done === 2 && ac.abort(new Error('stopped by test')) }, split.train.slice(0, 40), { auxSteps: 5 }, { template });
    await expect(run).rejects.toThrow('stopped by test');
    expect(tf.memory().numTensors).toBe(before);
  });
});
