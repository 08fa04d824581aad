import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';
import { initBackend } from '../core/model/backend.ts';
import { generateDataset } from '../core/data/synth/generate.ts';
import { readRun } from '../core/runs/store.ts';
import { loadPretrained, PRETRAIN_CARD, runPretrain, type PipelinePretrain } from '../core/stages/pretrain.ts';
import { loadPipelineConfig } from '../core/stages/pipeline-config.ts';
import { runPipeline } from '../core/stages/pipeline.ts';

/** `lref pretrain` and a pipeline that starts from it (smoke sizes). */

const root = mkdtempSync(join(tmpdir(), 'lref-pretrain-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pretrain', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('never reads a label: the same text with other labels gives the same weights', () => {
    const pairs = generateDataset({ pairs: 120, seed: 9, noise: 0 }).pairs;
    const relabelled = pairs.map((p) => ({ ...p, label: p.label === 'Exact' ? 'Irrelevant' : 'Exact', score: 1 }));
    const cfg = { preset: 'smoke' as const, vocabSize: 320, steps: 4, seed: 2 };
    const before = tf.memory().numTensors;
    runPretrain(pairs, cfg, { outDir: join(root, 'a'), backend: 'wasm', source: 'test' });
    runPretrain(relabelled, cfg, { outDir: join(root, 'b'), backend: 'wasm', source: 'test' });
    expect(tf.memory().numTensors).toBe(before);
    expect(readFileSync(join(root, 'a', 'weights.bin')).equals(readFileSync(join(root, 'b', 'weights.bin')))).toBe(true);
  });

  it('lref pretrain writes a folder a pipeline starts from: its tokenizer, its model shape, its weights', { timeout: 120_000 }, async () => {
    const pre = join(root, 'pre');
    const io = bufferIO();
    expect(await main(['pretrain', '--pairs', '300', '--preset', 'smoke', '--vocab', '320', '--steps', '20', '--backend', 'wasm', '--out', pre, '--json'], io)).toBe(0);
    const line = JSON.parse(io.stdout.at(-1)!);
    expect(line.loss_last10).toBeLessThan(line.loss_first10); // it learnt the text
    const loaded = loadPretrained(pre);
    const vocab = loaded.tokenizer.vocabSize;
    const shape = loaded.model.config;
    loaded.model.dispose();

    const config = join(root, 'from-pre.json');
    writeFileSync(config, JSON.stringify({ preset: 'smoke', pretrained: pre, stopAfter: 'sft_all', train: { steps: 10 }, baselines: { crossEncoder: { enabled: false, steps: 10 } } }));
    const before = tf.memory().numTensors;
    const run = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', join(root, 'run'), '--json'], run)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const r = readRun(join(root, 'run'));
    expect(r.run.notes.some((n) => n.startsWith(`pretrained: ${pre} (`))).toBe(true);
    expect(r.run.notes).toContain(`model: ${shape.nLayers} layers × ${shape.dModel} wide, context ${shape.contextLength}, vocabulary ${vocab}; backend wasm`);
    expect(r.metrics.variants.map((m) => m.name)).toEqual(['lexical', 'sft_all']);

    const bad = bufferIO();
    writeFileSync(config, JSON.stringify({ preset: 'smoke', pretrained: root, stopAfter: 'sft_all' }));
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', join(root, 'never')], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toContain(`${root}: not a pretrained folder`);
  });

  it('lref pretrain reads several data files, each in its own format, as one corpus', { timeout: 60_000 }, async () => {
    const jsonl = join(root, 'gen.jsonl');
    const pairs = generateDataset({ pairs: 40, seed: 4, noise: 0 }).pairs;
    writeFileSync(jsonl, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const cf = join(root, 'cf.csv');
    writeFileSync(cf, '"id","query","product_title","product_description","median_relevance","relevance_variance"\n1,"led lights","Train Lights","warm white",4,0\n2,"light bulb","Accent Pillow","",1,0\n');
    const out = join(root, 'pre-both');
    const io = bufferIO();
    const args = ['pretrain', '--data', jsonl, '--data', cf, '--preset', 'smoke', '--vocab', '320', '--steps', '2', '--backend', 'wasm', '--out', out, '--json'];
    expect(await main(args, io)).toBe(0);
    expect(JSON.parse(io.stdout.at(-1)!).texts).toBe(42);
    const card = JSON.parse(readFileSync(join(out, PRETRAIN_CARD), 'utf8'));
    expect(card.source).toBe(`${jsonl} + ${cf}`);
    // --max-texts caps the corpus with a seeded sample.
    const capped = bufferIO();
    expect(await main([...args.slice(0, -3), '--out', join(root, 'pre-capped'), '--max-texts', '10', '--json'], capped)).toBe(0);
    expect(JSON.parse(capped.stdout.at(-1)!).texts).toBe(10);
    // A bad file among several is named, and nothing is written.
    const bad = bufferIO();
    expect(await main(['pretrain', '--data', jsonl, '--data', join(root, 'nope.csv'), '--preset', 'smoke', '--out', join(root, 'pre-never')], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toContain(`${join(root, 'nope.csv')}: no such file or folder`);
    expect(existsSync(join(root, 'pre-never'))).toBe(false);
  });

  it('config "pretrain": the run pretrains its own base on fresh generator text, and a shared folder is reused, never overwritten', { timeout: 120_000 }, async () => {
    const file = join(root, 'inline.json');
    writeFileSync(file, JSON.stringify({ preset: 'smoke', pretrain: { steps: 6, pairs: 200 }, stopAfter: 'sft_all', train: { steps: 6 }, baselines: { crossEncoder: { enabled: false } } }));
    const cfg = loadPipelineConfig({ file });
    const before = tf.memory().numTensors;
    const shared = join(root, 'shared-base');
    const logs: string[][] = [[], []];
    for (const [i, seed] of [1, 2].entries()) {
      await runPipeline({ ...cfg, seed }, { outDir: join(root, `inline-${seed}`), backend: 'wasm', pretrainDir: shared, log: (l) => logs[i].push(l) });
    }
    expect(tf.memory().numTensors).toBe(before);
    const card = JSON.parse(readFileSync(join(shared, PRETRAIN_CARD), 'utf8'));
    // The run's vocabulary and model size; the text is 200 generated pairs the runs never see (seed 1 + 100000).
    expect(card.source).toBe('generator (200 pairs, seed 100001)');
    expect(card.config).toMatchObject({ preset: 'smoke', vocabSize: cfg.tokenizer.vocabSize, contextLength: 128, steps: 6, seed: 1 });
    expect(logs[0].some((l) => l.startsWith(`pretrained: ${shared} (`))).toBe(true);
    expect(logs[1]).toContain(`pretrain: reusing ${shared}`);
    // Another recipe into the same folder is refused.
    await expect(runPipeline({ ...cfg, pretrain: { ...(cfg.pretrain as PipelinePretrain), steps: 7 } }, { outDir: join(root, 'inline-x'), backend: 'wasm', pretrainDir: shared })).rejects.toThrow(`${shared}: holds a base pretrained with another config`);
    // Without a shared folder the run keeps its base inside its own folder.
    await runPipeline({ ...cfg, seed: 3 }, { outDir: join(root, 'inline-3'), backend: 'wasm' });
    expect(readFileSync(join(root, 'inline-3', 'pretrained', PRETRAIN_CARD), 'utf8')).toContain('"steps": 6');
    // The in-run pretraining is the first stage of the run's time table and counts in its total.
    const timings = JSON.parse(readFileSync(join(root, 'inline-3', 'run.json'), 'utf8')).timings as Record<string, number>;
    expect(Object.keys(timings)[0]).toBe('pretrain');
    expect(timings.pretrain).toBeGreaterThan(0);
    expect(timings.total).toBeGreaterThan(timings.pretrain + timings.sft_all);
  });
});
