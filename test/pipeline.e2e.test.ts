import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';
import { LREF5 } from '../core/data/labels.ts';
import { PredictionRecord } from '../core/runs/schema.ts';
import { readRun } from '../core/runs/store.ts';
import { pipelineConfigOf } from '../core/stages/pipeline-config.ts';
import { loadRelevanceModel, predictLabels } from '../core/stages/relevance-model.ts';

/**
 * `lref pipeline` end to end, in-process: the smoke preset with fewer steps per stage (the data,
 * tokenizer, model and warmup are the smoke preset's, so the first SFT losses are the smoke run's
 * own and serve as its seeded golden trace). Pinned to wasm: a loss trace is only comparable with
 * one from the same backend.
 */

const root = mkdtempSync(join(tmpdir(), 'lref-pipeline-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));


const VARIANTS = ['lexical', 'cross_encoder', 'sft_all', 'sft_random', 'sft_selected', '+ee', '+ee:scored', '+ra', '+ra:scored', '+dr', '+dr:scored', '+label', '+dpo', '+dpo:scored'];
/** the trained models (the :scored rows are the CoT/DPO models asked another way) */
const MODELS = VARIANTS.filter((v) => !v.endsWith(':scored'));

/**
 * The first SFT losses of the smoke preset on wasm (seed 1): any drift in data, tokenizer, init or
 * step shows here. A deliberate change upstream means re-recording them (from run.json's training);
 * last recorded when the built-in templates gained the {match} line (issue 11): every prompt
 * changed, so every trace moved. Checked: the commit before it still reproduces the previous
 * trace, [5.9569, 5.9312, 5.7495, 5.5734] and [1.6239, 1.6055, 1.5779].
 */
const GOLDEN_SFT_ALL = [5.953120708465576, 5.876944065093994, 5.732128620147705, 5.5696821212768555];
const GOLDEN_CROSS_ENCODER = [1.6307803392410278, 1.6067633628845215, 1.5701252222061157];

describe('lref pipeline (smoke, fewer steps)', () => {
  // Every variant is evaluated on valid as well as test, so CoT generation runs twice: ~55 s alone,
  // past the default 120 s when the machine is shared.
  it('runs every stage, writes a valid run folder, prints the table and reproduces the golden trace', { timeout: 300_000 }, async () => {
    const config = join(root, 'fast.json');
    writeFileSync(
      config,
      JSON.stringify({
        preset: 'smoke',
        // sft_random/sft_selected continue from sft_all (checked below), so that path runs too.
        // Early stopping on valid for sft_all and the cross-encoder alike (checks at 20 and 40).
        train: { steps: 40, subsetBase: 'sft_all', subsetSteps: 12, earlyStop: { every: 20, patience: 5 } },
        // and the options beyond the paper: grade-balanced selection, answer-first CoT with its
        // label-only control (+label), RPO's NLL term in DPO and its checkpoint choice on valid
        selection: { auxSteps: 20, balance: 'label' },
        cot: { steps: 20, answerFirst: true, control: true },
        dpo: { minePairs: 32, train: { rpoAlpha: 1, validate: { every: 2 } } },
        baselines: { crossEncoder: { steps: 40, earlyStop: { every: 20, patience: 5 } } },
      }),
    );
    const out = join(root, 'run');
    const io = bufferIO();
    const tensorsBefore = tf.memory().numTensors;
    const code = await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', out, '--json'], io);
    expect(io.stderr.join('\n')).toBe('');
    expect(code).toBe(0);
    // Every model the pipeline made was freed.
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const line = JSON.parse(io.stdout[io.stdout.length - 1]);
    expect(line.out).toBe(out);
    expect(Object.keys(line.variants)).toEqual(VARIANTS);

    const run = readRun(out); // validates every file against core/runs/schema.ts
    expect(run.metrics.variants.map((m) => m.name)).toEqual(VARIANTS);
    expect(run.run.variants).toEqual(VARIANTS);
    expect(pipelineConfigOf(run.run.config, out).train.steps).toBe(40);
    expect(run.run.config.preset).toBe('smoke');
    expect(run.run.backend).toBe('wasm');
    expect(run.run.data).toMatchObject({ source: 'generator', scheme: 'lref5', pairs: 600 });
    expect(run.run.data.split.train + run.run.data.split.valid + run.run.data.split.test).toBe(600);
    const n = run.run.data.split.test;
    expect(run.pairs).toHaveLength(n);
    for (const m of run.metrics.variants) {
      expect(m.n).toBe(n);
      expect(m.confusion.flat().reduce((a, b) => a + b, 0) + m.unparseable).toBe(n);
    }
    // every variant on valid too (choices are made there), same order
    expect(run.metrics.valid_variants!.map((m) => m.name)).toEqual(VARIANTS);
    for (const m of run.metrics.valid_variants!) expect(m.n).toBe(run.run.data.split.valid);
    expect(Object.keys(line.valid)).toEqual(VARIANTS);
    expect(line.split).toBe('test');
    // scored twins never fail to parse; like the +label control they are asked with the label prompt
    for (const m of run.metrics.variants.filter((x) => x.name.endsWith(':scored'))) expect(m.unparseable).toBe(0);
    for (const stage of ['data', 'tokenizer', 'lexical', 'cross_encoder', 'sft_all', 'selection', 'sft_random', 'sft_selected', 'cot', 'dpo/mine', 'eval/+dpo', 'total']) {
      expect(run.run.timings[stage], stage).toBeGreaterThanOrEqual(0);
    }

    // predictions.jsonl: one line per test pair per variant; CoT variants carry rationales.
    const lines = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(n * VARIANTS.length);
    for (const l of lines) PredictionRecord.parse(JSON.parse(l));
    const testIds = new Set(run.pairs.map((p) => p.pair_id));
    for (const v of VARIANTS) {
      const preds = run.predictions.filter((p) => p.variant === v);
      expect(new Set(preds.map((p) => p.pair_id))).toEqual(testIds);
      const unparseable = preds.filter((p) => p.label === null).length;
      expect(unparseable).toBe(run.metrics.variants.find((m) => m.name === v)!.unparseable);
      if (v.startsWith('+') && v !== '+label' && !v.endsWith(':scored')) {
        expect(preds.every((p) => typeof p.rationale === 'string' && p.cot_kind !== undefined)).toBe(true);
      } else if (v !== 'lexical') {
        expect(preds.every((p) => p.probs !== undefined && Math.abs(Object.values(p.probs).reduce((a, b) => a + b, 0) - 1) < 1e-4)).toBe(true);
      }
    }

    // selection.jsonl covers the train split; sft_selected trained on exactly the kept pairs.
    expect(run.selection).toHaveLength(run.run.data.split.train);
    expect(run.selection.every((r) => LREF5.labels.includes(r.im!))).toBe(true);
    expect(run.run.notes.some((l) => l.startsWith(`sft_selected: 12 steps on ${run.selection.filter((r) => r.kept).length} pairs`))).toBe(true);

    // Checkpoints: one folder per variant; a decoder variant loads back.
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual([...MODELS].sort());
    const ee = loadRelevanceModel(join(out, 'checkpoints', '+ee'));
    expect(ee.template.kind).toBe('ee');
    expect(ee.template.answerFirst).toBe(true);
    expect(ee.card.provenance.run_id).toBe(run.run.id);
    ee.model.dispose();
    // Every scored variant's decision rule was fitted on valid and logged; a label model carries its
    // rule, so the saved sft_all, asked on test, gives exactly the grades in predictions.jsonl.
    for (const v of ['cross_encoder', 'sft_all', 'sft_selected', '+label', '+ee:scored', '+dpo:scored']) {
      expect(run.run.notes.some((l) => l.startsWith(`${v}: decision rule on valid — offsets `))).toBe(true);
    }
    const sftAll = loadRelevanceModel(join(out, 'checkpoints', 'sft_all'));
    expect(sftAll.decision).toMatchObject({ fitted_on: 'valid', n: run.run.data.split.valid });
    expect(sftAll.decision!.offsets).toHaveLength(LREF5.labels.length);
    expect(predictLabels(sftAll, run.pairs).map((p) => p.label)).toEqual(run.predictions.filter((p) => p.variant === 'sft_all').map((p) => p.label));
    sftAll.model.dispose();
    const ev = bufferIO();
    expect(await main(['eval', '--model', join(out, 'checkpoints', 'sft_all'), '--data', join(out, 'pairs.jsonl'), '--backend', 'wasm'], ev)).toBe(0);
    expect(ev.stdout[0]).toMatch(/ · grades by the rule fitted on valid \(offsets 0\.0 \/ /);

    // The golden trace (see GOLDEN_*), and the loss traces' lengths.
    const t = run.run.training;
    GOLDEN_SFT_ALL.forEach((x, i) => expect(t.sft_all.losses[i]).toBeCloseTo(x, 4));
    GOLDEN_CROSS_ENCODER.forEach((x, i) => expect(t.cross_encoder.losses[i]).toBeCloseTo(x, 4));
    expect(t.sft_all.losses).toHaveLength(40);
    // With early stopping the record names the checks and the kept step, and so does the checkpoint:
    // `steps` counts what was trained, not the weights that were scored.
    for (const v of ['sft_all', 'cross_encoder']) {
      expect(t[v].valid_curve!.map((c) => c.step), v).toEqual([20, 40]);
      const best = t[v].valid_curve!.reduce((a, b) => (b.score! > a.score! ? b : a));
      expect(t[v].kept_step, v).toBe(best.step);
      expect(JSON.parse(readFileSync(join(out, 'checkpoints', v, 'checkpoint.json'), 'utf8')).step, v).toBe(best.step);
    }
    // Continued from sft_all: the subset fine-tunes start near where sft_all ended, not at a fresh init's loss.
    for (const v of ['sft_random', 'sft_selected']) {
      expect(t[v].losses).toHaveLength(12);
      expect(t[v].losses[0]).toBeLessThan(t.sft_all.losses[0] - 1);
    }
    expect(t['+ee'].losses).toHaveLength(20);
    expect(t['+label'].losses).toHaveLength(20);
    expect(t['+dpo'].steps).toBe(t['+dpo'].losses.length);
    // and DPO's record and checkpoint name the step it kept, with the checks that chose it
    expect(t['+dpo'].valid_curve!.map((c) => c.step)).toEqual([0, ...Array.from({ length: Math.ceil(t['+dpo'].steps / 2) }, (_, i) => Math.min(2 * (i + 1), t['+dpo'].steps))]);
    expect(JSON.parse(readFileSync(join(out, 'checkpoints', '+dpo', 'checkpoint.json'), 'utf8')).step).toBe(t['+dpo'].kept_step);
    // DPO's checkpoint was chosen on valid: checks from step 0 (the start) to the last step
    const choice = run.run.notes.find((l) => l.startsWith('+dpo: checkpoint choice on valid'));
    expect(choice).toMatch(new RegExp(`— 0: [\\d.]+ / [\\d.]+, 2: .* ${t['+dpo'].steps}: [\\d.]+ / [\\d.]+; kept step ${t['+dpo'].kept_step}$`));
    // the share of prompts cut to fit the context is reported for train and test
    expect(run.run.notes.filter((l) => /^prompts \((train|test)\): label template, vocabulary \d+: .* cut to fit a context of 128$/.test(l))).toHaveLength(2);
  });

  it('a split without valid pairs runs to the end: DPO skips its checkpoint choice as label SFT skips early stopping', { timeout: 300_000 }, async () => {
    const config = join(root, 'no-valid.json');
    writeFileSync(
      config,
      JSON.stringify({
        preset: 'smoke',
        split: { train: 0.8, valid: 0, test: 0.2 },
        train: { steps: 12, earlyStop: { every: 4, patience: 2 } },
        selection: { auxSteps: 8 },
        cot: { steps: 4, answerFirst: true },
        dpo: { minePairs: 16, train: { validate: { every: 2 } } },
        baselines: { crossEncoder: { steps: 4 } },
      }),
    );
    const out = join(root, 'no-valid');
    const io = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', out, '--json'], io)).toBe(0);
    expect(io.stderr.join('\n')).toBe('');
    const run = readRun(out);
    expect(run.run.data.split.valid).toBe(0);
    expect(run.metrics.variants.map((m) => m.name)).toContain('+dpo');
    expect(run.run.notes.some((l) => l.startsWith('eval: the split has no valid pairs'))).toBe(true);
    expect(run.run.notes.some((l) => l.startsWith('+dpo: checkpoint choice on valid'))).toBe(false);
    expect(run.run.notes.some((l) => l.includes('decision rule on valid'))).toBe(false);
  });

  it('train.template asks every scored variant with the researcher\'s label prompt; a wrong kind is refused before any work', { timeout: 300_000 }, async () => {
    const template = join(root, 'label-no-description.json');
    writeFileSync(template, JSON.stringify({ id: 'label-no-description', version: 1, kind: 'label', prompt: '<bos><query> {query}<product> {title}[, {brand}]<answer>', highlight: true }));
    const config = join(root, 'template.json');
    writeFileSync(config, JSON.stringify({ preset: 'smoke', stopAfter: 'sft_all', train: { steps: 8, template }, baselines: { crossEncoder: { steps: 4 } } }));
    const out = join(root, 'template-run');
    const io = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', out, '--json'], io)).toBe(0);
    const run = readRun(out);
    expect(pipelineConfigOf(run.run.config, out).train.template).toBe(template);
    expect(run.run.notes.filter((l) => l.startsWith('prompts (train): label-no-description template'))).toHaveLength(1);
    const rm = loadRelevanceModel(join(out, 'checkpoints', 'sft_all'));
    try {
      expect(rm.template.id).toBe('label-no-description');
      expect(rm.template.prompt).not.toContain('{description}');
    } finally {
      rm.model.dispose();
    }

    writeFileSync(config, JSON.stringify({ preset: 'smoke', train: { template: 'ee' } }));
    const io2 = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', join(root, 'never-template')], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toContain('train.template: ee is a "ee" template; this stage needs kind "label"');
    writeFileSync(config, JSON.stringify({ preset: 'smoke', train: { template: join(root, 'missing.json') } }));
    const io3 = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', join(root, 'never-template')], io3)).toBe(2);
    expect(io3.stderr.join('\n')).toMatch(/train\.template: prompt template .*missing\.json not found/);
    expect(existsSync(join(root, 'never-template'))).toBe(false);
  });

  it('refuses to overwrite a finished run', async () => {
    const io = bufferIO();
    const out = join(root, 'run');
    expect(existsSync(join(out, 'run.json'))).toBe(true);
    expect(await main(['pipeline', '--preset', 'smoke', '--backend', 'wasm', '--out', out], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain('already holds a finished run');
  });

  it('names the key and the file of a bad config, before any work', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ preset: 'smoke', cot: { techer: { kind: 'rules' } } }));
    const io = bufferIO();
    expect(await main(['pipeline', '--config', bad, '--out', join(root, 'never')], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(`${bad}: cot.techer: unknown key`);
    expect(existsSync(join(root, 'never'))).toBe(false);
    const io2 = bufferIO();
    expect(await main(['pipeline', '--format', 'jsonl'], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toContain('--format applies to --data');
  });
});
