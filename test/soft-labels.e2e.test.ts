import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';
import { initBackend } from '../core/model/backend.ts';
import { generateDataset } from '../core/data/synth/generate.ts';
import { getScheme } from '../core/data/labels.ts';
import { presetFor } from '../core/model/presets.ts';
import { TrainConfig } from '../core/model/config.ts';
import { readRun } from '../core/runs/store.ts';
import { loadTemplate } from '../core/text/prompts.ts';
import { Tokenizer } from '../core/text/tokenizer.ts';
import { predictLabels, trainLabelModel } from '../core/stages/relevance-model.ts';
import { predictCrossEncoder, trainCrossEncoder } from '../core/stages/baselines/cross-encoder.ts';

/** train.softLabels: Home Depot's mean rating as the target distribution (label SFT and the cross-encoder). */

const root = mkdtempSync(join(tmpdir(), 'lref-soft-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('soft labels', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('a model trained towards a mean rating of 2.33 learns its spread; trained on the bucket it does not', { timeout: 60_000 }, () => {
    const scheme = getScheme('graded3');
    const pairs = generateDataset({ pairs: 64, seed: 4, noise: 0 }).pairs.map((p) => ({ ...p, label: 'Medium', score: 2.33 }));
    const tok = Tokenizer.train(pairs.map((p) => `${p.query} ${p.title}`), { vocabSize: 300 });
    const preset = presetFor('smoke', tok.vocabSize);
    const template = loadTemplate('label');
    const trainConfig = TrainConfig.parse({ ...preset.train, steps: 60, lr: 0.01, batchSize: 16, warmup: 0, seed: 3 });
    const high = (soft: boolean) => {
      const before = tf.memory().numTensors;
      const { rm, optimizer } = trainLabelModel(tok, scheme, template, pairs, {
        modelConfig: { ...preset.model, vocabSize: tok.vocabSize },
        trainConfig,
        ...(soft ? { soft: pairs.map(() => ({ Medium: 0.67, High: 0.33 })) } : {}),
      });
      const probs = predictLabels(rm, pairs.slice(0, 32));
      rm.model.dispose();
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return probs.reduce((a, p) => a + p.probs.High, 0) / probs.length;
    };
    const soft = high(true);
    expect(soft).toBeGreaterThan(0.2);
    expect(soft).toBeLessThan(0.45);
    expect(high(false)).toBeLessThan(0.1);

    // the cross-encoder baseline, given the same targets, learns the same spread
    const ceHigh = (withSoft: boolean) => {
      const before = tf.memory().numTensors;
      const { model } = trainCrossEncoder(tok, scheme, template, pairs, { steps: 60, lr: 0.01, batchSize: 16, warmup: 0 }, {
        modelConfig: { ...preset.model, vocabSize: tok.vocabSize },
        trainConfig,
        ...(withSoft ? { soft: pairs.map(() => ({ Medium: 0.67, High: 0.33 })) } : {}),
      });
      const probs = predictCrossEncoder(model, pairs.slice(0, 32));
      model.clf.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return probs.reduce((a, p) => a + p.probs.High, 0) / probs.length;
    };
    const ceSoft = ceHigh(true);
    expect(ceSoft).toBeGreaterThan(0.2);
    expect(ceSoft).toBeLessThan(0.45);
    expect(ceHigh(false)).toBeLessThan(0.1);
  });

  it('a Home Depot file trains with them end to end; other data is refused before any training', { timeout: 120_000 }, async () => {
    const pairs = generateDataset({ pairs: 240, seed: 6, noise: 0 }).pairs;
    const means = [3, 2.67, 2.33, 2, 1.67, 1.33, 1];
    const csv = ['id,product_uid,product_title,search_term,relevance', ...pairs.map((p, i) => `${i + 1},${p.product_id.replace(/\D/g, '') || i},"${p.title.replace(/"/g, '')}","${p.query.replace(/"/g, '')}",${means[i % means.length]}`)].join('\n');
    const data = join(root, 'hd.csv');
    writeFileSync(data, csv + '\n');
    const config = join(root, 'soft.json');
    writeFileSync(config, JSON.stringify({ preset: 'smoke', stopAfter: 'sft_all', train: { steps: 8, softLabels: true }, baselines: { crossEncoder: { steps: 8 } } }));
    const before = tf.memory().numTensors;
    const io = bufferIO();
    expect(await main(['pipeline', '--config', config, '--data', data, '--format', 'homedepot', '--backend', 'wasm', '--out', join(root, 'run'), '--json'], io)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const r = readRun(join(root, 'run'));
    expect(r.metrics.variants.map((m) => m.name)).toEqual(['lexical', 'cross_encoder', 'sft_all']);
    expect(r.run.config).toMatchObject({ train: { softLabels: true } });

    const bad = bufferIO();
    expect(await main(['pipeline', '--config', config, '--backend', 'wasm', '--out', join(root, 'never')], bad)).toBe(2);
    expect(bad.stderr.join('\n')).toContain("train.softLabels: needs mean ratings on the graded3 scheme (Home Depot); this data's scheme is lref5");
  });
});
