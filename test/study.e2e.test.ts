import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';
import { readRun } from '../core/runs/store.ts';
import { StudyFile } from '../core/stages/study.ts';
import { stat } from '../core/stages/study-stat.ts';

/**
 * `lref study` on the smoke preset cut down further (fewer pairs, steps and one CoT kind), two
 * seeds: the study folder, mean ± std that match the seeds' own metrics.json, and resuming.
 */

const root = mkdtempSync(join(tmpdir(), 'lref-study-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stat', () => {
  it('is the mean and the sample standard deviation', () => {
    expect(stat([0.4, 0.5, 0.6])).toEqual({ mean: expect.closeTo(0.5, 12), std: expect.closeTo(0.1, 12), values: [0.4, 0.5, 0.6] });
    expect(stat([0.3])).toEqual({ mean: 0.3, std: 0, values: [0.3] });
  });
});

describe('lref study (smoke, tiny)', () => {
  it('runs one pipeline per seed and writes mean ± std per variant and figure; a rerun reuses the runs', { timeout: 240_000 }, async () => {
    const config = join(root, 'tiny.json');
    writeFileSync(
      config,
      JSON.stringify({
        preset: 'smoke',
        data: { source: 'generator', pairs: 300 },
        train: { steps: 10 },
        selection: { auxSteps: 5 },
        cot: { steps: 5, order: ['ee'], control: true },
        dpo: { minePairs: 8, mine: { maxNewTokens: 16 } },
        baselines: { crossEncoder: { steps: 10 } },
        eval: { maxNewTokens: 16 },
      }),
    );
    const out = join(root, 'study');
    const io = bufferIO();
    const tensorsBefore = tf.memory().numTensors;
    const code = await main(['study', '--seeds', '1,2', '--config', config, '--backend', 'wasm', '--out', out, '--json'], io);
    expect(io.stderr.join('\n')).toBe('');
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const study = StudyFile.parse(JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')));
    expect(study.seeds).toEqual([1, 2]);
    expect(study.runs).toEqual(['seed-1', 'seed-2']);
    expect(study.variants).toEqual(['lexical', 'cross_encoder', 'sft_all', 'sft_random', 'sft_selected', '+ee', '+ee:scored', '+label', '+dpo', '+dpo:scored']);
    const runs = study.runs.map((r) => readRun(join(out, r)));
    expect(runs.map((r) => r.run.seed)).toEqual([1, 2]);
    // the figures are the seeds' own, aggregated
    for (const v of study.variants) {
      const per = runs.map((r) => r.metrics.variants.find((m) => m.name === v)!.macro_f1);
      expect(study.test[v].macro_f1.values).toEqual(per);
      expect(study.test[v].macro_f1.mean).toBeCloseTo((per[0] + per[1]) / 2, 12);
      expect(study.test[v].macro_f1.std).toBeCloseTo(Math.abs(per[0] - per[1]) / Math.SQRT2, 12);
      const perValid = runs.map((r) => r.metrics.valid_variants!.find((m) => m.name === v)!.accuracy);
      expect(study.valid![v].accuracy.values).toEqual(perValid);
    }
    // effects: per-seed differences of the seeds' own figures, the best variant chosen on valid
    expect(study.effects.map((e) => e.name.replace(/^best \([^)]+\)/, 'best'))).toEqual([
      'best − lexical',
      'best − cross_encoder',
      'sft_selected − sft_random',
      '+ee − +label',
      '+ee:scored − +label',
      '+dpo vs +ee, optimistic share (relative)',
      '+dpo − +ee, accuracy',
    ]);
    const learned = study.variants.filter((v) => v !== 'lexical' && v !== 'cross_encoder');
    const best = learned.reduce((x, y) => (study.valid![y].macro_f1.mean > study.valid![x].macro_f1.mean ? y : x));
    expect(study.effects[0].a).toBe(best);
    const f1 = (r: (typeof runs)[number], v: string) => r.metrics.variants.find((m) => m.name === v)!.macro_f1;
    expect(study.effects[0].test.values).toEqual(runs.map((r) => f1(r, best) - f1(r, 'lexical')));
    expect(study.effects[2].test.values).toEqual(runs.map((r) => f1(r, 'sft_selected') - f1(r, 'sft_random')));
    expect(study.effects[0].wins).toBe(runs.filter((r) => f1(r, best) > f1(r, 'lexical')).length);
    const line = JSON.parse(io.stdout.at(-1)!);
    expect(line.effects).toHaveLength(7);
    expect(line.split).toBe('test');
    expect(line.variants.sft_all.macro_f1.mean).toBeCloseTo(100 * study.test.sft_all.macro_f1.mean, 1);
    for (const f of ['study.md', 'study.svg', 'study.vl.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const md = readFileSync(join(out, 'study.md'), 'utf8');
    expect(md).toContain('## test (report these)');
    expect(md).toContain('## valid (choose on these)');
    expect(md).toMatch(/## effects \(paired by seed[\s\S]*sft_selected − sft_random/);
    expect(readFileSync(join(out, 'study.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);

    // A rerun reads the finished seeds back (no training) and gives the same study.
    const again = bufferIO();
    expect(await main(['study', '--seeds', '1,2', '--config', config, '--backend', 'wasm', '--out', out], again)).toBe(0);
    expect(again.stderr.join('\n')).toContain('study: seed 2: reusing the finished run');
    expect(StudyFile.parse(JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')))).toEqual(study);
    expect(again.stdout.join('\n')).toContain('test split, mean ± std over 2 seeds (report these):');
  });

  it('refuses bad seeds and a folder holding another config', async () => {
    const io = bufferIO();
    expect(await main(['study', '--seeds', '1,x', '--preset', 'smoke'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('--seeds: "x" is not a whole number');
    const io2 = bufferIO();
    expect(await main(['study', '--preset', 'smoke'], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toContain('--seeds is required');
    const io3 = bufferIO();
    expect(await main(['study', '--seeds', '1', '--preset', 'smoke', '--backend', 'wasm', '--out', join(root, 'study')], io3)).toBe(2);
    expect(io3.stderr.join('\n')).toContain('holds a run of another config');
  });
});
