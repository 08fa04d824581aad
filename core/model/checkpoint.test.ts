import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { TrainConfig } from './config.ts';
import { DecoderLM } from './gpt.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { makeBatch } from '../train/batch.ts';
import { makeOptimizer, trainLM } from '../train/loop.ts';
import { trainStep } from '../train/step.ts';

const cfg = { vocabSize: 32, contextLength: 16, dModel: 16, nHeads: 2, nLayers: 2, dropout: 0.1, seed: 4 };
const trainCfg = TrainConfig.parse({ steps: 10, batchSize: 4, warmup: 2, lr: 3e-3, seed: 2 });
const examples = Array.from({ length: 12 }, (_, i) => ({ prompt: [2 + i, 3 + i, 31], completion: [5 + i, 1] }));
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lref-ckpt-'));
  dirs.push(d);
  return d;
};

describe('checkpoint', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  afterEach(() => {
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  });

  it('round-trips bit-exactly: a resumed run continues the same loss trace', () => {
    const dir = tmp();
    const model = new DecoderLM(cfg);
    const first = trainLM(model, examples, trainCfg, { stopStep: 4 });
    saveCheckpoint(dir, { model, optimizer: first.optimizer, trainConfig: trainCfg, step: first.step, tokenizerJson: { vocab: ['a'] } });
    const cont = trainLM(model, examples, trainCfg, { optimizer: first.optimizer, startStep: first.step });

    const loaded = loadCheckpoint(dir);
    expect(loaded.step).toBe(4);
    expect(loaded.tokenizerJson).toEqual({ vocab: ['a'] });
    expect(loaded.model.config).toEqual(model.config);
    const resumed = trainLM(loaded.model, examples, trainCfg, { optimizer: loaded.optimizer, startStep: loaded.step });
    expect(resumed.losses).toEqual(cont.losses); // exact, not approximately
    for (const [name, v] of model.params()) {
      expect(Array.from(loaded.model.params().get(name)!.dataSync()), name).toEqual(Array.from(v.dataSync()));
    }
    [model, loaded.model].forEach((m) => m.dispose());
    [cont.optimizer, loaded.optimizer!].forEach((o) => o.dispose());
  });

  it('saved weights reproduce the saved model’s logits exactly', () => {
    const dir = tmp();
    const model = new DecoderLM(cfg);
    const opt = makeOptimizer(model, trainCfg);
    trainStep(model, opt, makeBatch(examples.slice(0, 4), { contextLength: 16 }), { lr: 1e-2, clipNorm: 1 });
    saveCheckpoint(dir, { model, step: 1 });
    const loaded = loadCheckpoint(dir);
    expect(loaded.optimizer).toBeUndefined();
    const ids = tf.tensor2d([[3, 4, 31, 6, 7]], undefined, 'int32');
    expect(Array.from(loaded.model.forward(ids).dataSync())).toEqual(Array.from(model.forward(ids).dataSync()));
    ids.dispose();
    model.dispose();
    opt.dispose();
    loaded.model.dispose();
  });

  it('writes checkpoint.json last and names the bad or missing file in errors', () => {
    const dir = tmp();
    const model = new DecoderLM(cfg);
    const manifest = saveCheckpoint(dir, { model, step: 0 });
    model.dispose();
    expect(manifest.weights.tensors[0]).toMatchObject({ name: 'tok_emb', shape: [32, 16], offset: 0 });
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);

    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, 100));
    expect(() => loadCheckpoint(dir)).toThrow(/weights\.bin: 100 bytes, checkpoint\.json expects/);
    rmSync(join(dir, 'weights.bin'));
    expect(() => loadCheckpoint(dir)).toThrow(/weights\.bin: missing/);

    writeFileSync(join(dir, 'checkpoint.json'), '{"version": 1, "kind": "lref-decoder-lm"');
    expect(() => loadCheckpoint(dir)).toThrow(/checkpoint\.json: not valid JSON/);
    writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ ...manifest, step: -1 }));
    expect(() => loadCheckpoint(dir)).toThrow(/checkpoint\.json: step:/);
    rmSync(join(dir, 'checkpoint.json'));
    expect(() => loadCheckpoint(dir)).toThrow(/checkpoint\.json: missing/);
  });

  it('leaves no tensors behind', () => {
    const dir = tmp();
    const before = tf.memory().numTensors;
    const model = new DecoderLM(cfg);
    const opt = makeOptimizer(model, trainCfg);
    saveCheckpoint(dir, { model, optimizer: opt, trainConfig: trainCfg, step: 0 });
    const loaded = loadCheckpoint(dir);
    [model, loaded.model].forEach((m) => m.dispose());
    [opt, loaded.optimizer!].forEach((o) => o.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
