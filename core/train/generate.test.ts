import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../model/backend.ts';
import { TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { trainLM } from './loop.ts';
import { beamSearch, greedy } from './generate.ts';

const cfg = { vocabSize: 24, contextLength: 20, dModel: 16, nHeads: 2, nLayers: 2, dropout: 0, seed: 5 };
const prompt = [3, 7, 11, 2, 9];

/** A model with peaked, non-uniform predictions: a few steps on a counting task. */
function trainedModel(): DecoderLM {
  const m = new DecoderLM(cfg);
  const ex = Array.from({ length: 8 }, (_, i) => ({ prompt: [2 + i, 3 + i], completion: [4 + i, 5 + i, 6 + i, 1] }));
  const r = trainLM(m, ex, TrainConfig.parse({ steps: 40, batchSize: 8, lr: 1e-2, warmup: 2, seed: 1 }));
  r.optimizer.dispose();
  return m;
}

for (const backend of ['cpu', 'wasm']) {
  describe(`generation on ${backend}`, () => {
    let model: DecoderLM;
    beforeAll(async () => {
      expect(await initBackend(backend)).toBe(backend);
      model = trainedModel();
    });
    afterAll(() => model.dispose());

    it('KV-cache greedy decoding gives the same tokens and log-probs as recomputing every step', () => {
      const a = greedy(model, prompt, { maxNewTokens: 12 });
      const b = greedy(model, prompt, { maxNewTokens: 12, useCache: false });
      expect(a.tokens.length).toBe(12);
      expect(a.tokens).toEqual(b.tokens);
      expect(a.logProb).toBeCloseTo(b.logProb, 3);
      // The trained task: after 5,6 the model continues counting.
      expect(greedy(model, [5, 6], { maxNewTokens: 3 }).tokens).toEqual([7, 8, 9]);
    });

    it('KV-cache beam search equals the no-cache beam search', () => {
      const a = beamSearch(model, prompt, { beamWidth: 4, maxNewTokens: 8 });
      const b = beamSearch(model, prompt, { beamWidth: 4, maxNewTokens: 8, useCache: false });
      expect(a.map((x) => x.tokens)).toEqual(b.map((x) => x.tokens));
      a.forEach((x, i) => expect(x.logProb).toBeCloseTo(b[i].logProb, 3));
      expect(a).toHaveLength(4);
      // Distinct hypotheses, best first.
      expect(new Set(a.map((x) => x.tokens.join(','))).size).toBe(4);
      for (let i = 1; i < a.length; i++) expect(a[i - 1].score).toBeGreaterThanOrEqual(a[i].score);
    });

    it('beam width 1 equals greedy', () => {
      for (const p of [prompt, [5, 6], [9]]) {
        const g = greedy(model, p, { maxNewTokens: 7, stopTokens: [1] });
        const [b] = beamSearch(model, p, { beamWidth: 1, maxNewTokens: 7, stopTokens: [1] });
        expect(b.tokens).toEqual(g.tokens);
        expect(b.logProb).toBeCloseTo(g.logProb, 5);
        expect(b.finished).toBe(g.finished);
      }
    });

    it('the best beam is at least as likely as the greedy path', () => {
      const g = greedy(model, prompt, { maxNewTokens: 6 });
      const [b] = beamSearch(model, prompt, { beamWidth: 5, maxNewTokens: 6 });
      expect(b.logProb).toBeGreaterThanOrEqual(g.logProb - 1e-4);
    });

    it('stop tokens end a hypothesis; length normalisation ranks by mean log-prob', () => {
      const g = greedy(model, [5, 6], { maxNewTokens: 10, stopTokens: [9] });
      expect(g.tokens).toEqual([7, 8, 9]);
      expect(g.finished).toBe(true);
      const beams = beamSearch(model, [5, 6], { beamWidth: 3, maxNewTokens: 10, stopTokens: [9], lengthPenalty: 1 });
      for (const b of beams) {
        expect(b.score).toBeCloseTo(b.logProb / b.tokens.length, 6);
        if (b.finished) expect(b.tokens[b.tokens.length - 1]).toBe(9);
      }
    });

    it('never decodes past the context length', () => {
      const long = Array.from({ length: 18 }, (_, i) => 2 + (i % 20));
      expect(greedy(model, long, { maxNewTokens: 10 }).tokens).toHaveLength(2);
      expect(beamSearch(model, long, { beamWidth: 2, maxNewTokens: 10 })[0].tokens).toHaveLength(2);
    });

    it('leaks no tensors', () => {
      const before = tf.memory().numTensors;
      greedy(model, prompt, { maxNewTokens: 5 });
      beamSearch(model, prompt, { beamWidth: 3, maxNewTokens: 5 });
      greedy(model, prompt, { maxNewTokens: 5, useCache: false });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
