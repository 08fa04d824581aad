import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';
import { initBackend } from '../core/model/backend.ts';
import { generateDataset } from '../core/data/synth/generate.ts';
import { readRun } from '../core/runs/store.ts';
import { loadPretrained, runPretrain } from '../core/stages/pretrain.ts';

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
});
