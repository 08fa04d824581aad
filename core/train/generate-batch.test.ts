import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.ts';
import { NATIVE_BACKEND, nativeBackendStatus } from '../model/native-backend.ts';
import { DecoderLM } from '../model/gpt.ts';
import { Rng } from '../util/rng.ts';
import { beamSearch, beamSearchBatch, greedy, greedyBatch } from './generate.ts';

// Batched decoding must be a pure speed-up: every prompt's tokens equal decoding it alone. On cpu
// the log-probs are bitwise equal too; on lref-native the gemm rounds a few-row product (M ≤ 4,
// its unpacked path) differently from a many-row one (packed, K split at 256), so they agree to ~1e-6.
const cfg = { vocabSize: 40, contextLength: 32, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0, seed: 11 };

/** Prompts of many lengths, some close to the context (less room to generate than maxNewTokens). */
function prompts(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => Array.from({ length: 1 + ((i * 7 + rng.int(9)) % 29) }, () => 2 + rng.int(cfg.vocabSize - 2)));
}

/** A model whose outputs differ across rows and hit the stop token now and then: random weights, made peakier. */
function model(): DecoderLM {
  const m = new DecoderLM(cfg);
  tf.tidy(() => {
    const emb = m.params().get('tok_emb')!;
    emb.assign(tf.mul(emb, 40));
  });
  return m;
}

const native = nativeBackendStatus().registered;
const backends = native ? ['cpu', NATIVE_BACKEND] : ['cpu'];
if (!native) console.warn('batched generation: lref-native not built, checked on cpu only');

for (const backend of backends) {
  describe(`batched generation on ${backend}`, () => {
    let m: DecoderLM;
    let STOP = 1;
    const sameLogProbs = (got: number[], want: number[]) => {
      if (backend === 'cpu') expect(got).toEqual(want);
      else got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(1e-4));
    };
    beforeAll(async () => {
      expect(await initBackend(backend)).toBe(backend);
      m = model();
      // A stop token the model does write: the third token of the first prompt's free continuation.
      STOP = greedy(m, prompts(1, 3)[0], { maxNewTokens: 3 }).tokens[2];
    });
    afterAll(() => m.dispose());

    it('greedy: the same tokens, log-probs and stop flags as one prompt at a time, in any chunking', () => {
      const ps = prompts(13, 3);
      const opts = { maxNewTokens: 12, stopTokens: [STOP] };
      const one = ps.map((p) => greedy(m, p, opts));
      // The test means something only if rows finish at different steps (stop token, context end, max tokens).
      const lengths = new Set(one.map((b) => b.tokens.length));
      expect(lengths.size).toBeGreaterThan(2);
      expect(one.some((b) => b.finished)).toBe(true);
      for (const rows of [1, 5, 32]) {
        const batch = greedyBatch(m, ps, { ...opts, rows });
        expect(batch.map((b) => b.tokens)).toEqual(one.map((b) => b.tokens));
        sameLogProbs(batch.map((b) => b.logProb), one.map((b) => b.logProb));
        expect(batch.map((b) => b.finished)).toEqual(one.map((b) => b.finished));
      }
    });

    it('beam search: the same beams, log-probs and order as one prompt at a time', () => {
      const ps = prompts(9, 5);
      for (const opts of [
        { beamWidth: 3, maxNewTokens: 10, stopTokens: [STOP] },
        { beamWidth: 4, maxNewTokens: 6, stopTokens: [STOP, 5], lengthPenalty: 1 },
      ]) {
        const one = ps.map((p) => beamSearch(m, p, opts));
        for (const rows of [4, 32]) {
          const batch = beamSearchBatch(m, ps, { ...opts, rows });
          expect(batch.map((bs) => bs.map((b) => b.tokens))).toEqual(one.map((bs) => bs.map((b) => b.tokens)));
          expect(batch.map((bs) => bs.map((b) => b.finished))).toEqual(one.map((bs) => bs.map((b) => b.finished)));
          sameLogProbs(batch.flatMap((bs) => bs.flatMap((b) => [b.logProb, b.score])), one.flatMap((bs) => bs.flatMap((b) => [b.logProb, b.score])));
        }
      }
    });

    it('handles prompts longer than the context and prompts with no room left', () => {
      const long = Array.from({ length: 40 }, (_, i) => 2 + (i % 30));
      const full = Array.from({ length: 32 }, (_, i) => 3 + (i % 20));
      const ps = [long, [4, 5], full];
      const opts = { maxNewTokens: 5, stopTokens: [STOP] };
      expect(greedyBatch(m, ps, opts).map((b) => b.tokens)).toEqual(ps.map((p) => greedy(m, p, opts).tokens));
      const beams = (bs: { tokens: number[] }[][]) => bs.map((b) => b.map((x) => x.tokens));
      expect(beams(beamSearchBatch(m, ps, { ...opts, beamWidth: 2 }))).toEqual(beams(ps.map((p) => beamSearch(m, p, { ...opts, beamWidth: 2 }))));
      expect(greedyBatch(m, ps, opts)[2].tokens).toEqual([]);
      expect(greedyBatch(m, [], opts)).toEqual([]);
    });

    it('leaks no tensors', () => {
      const ps = prompts(6, 9);
      const before = tf.memory().numTensors;
      greedyBatch(m, ps, { maxNewTokens: 6, stopTokens: [STOP], rows: 4 });
      beamSearchBatch(m, ps, { beamWidth: 3, maxNewTokens: 6, stopTokens: [STOP] });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
