import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../model/backend.ts';
import { DecoderLM } from '../model/gpt.ts';
import { scoreLabels } from './score.ts';

const cfg = { vocabSize: 30, contextLength: 10, dModel: 16, nHeads: 2, nLayers: 1, dropout: 0, seed: 9 };
const labels = [25, 26, 27, 28, 29];
const prompts = [[3, 4, 5], [6], [7, 8, 9, 10, 11, 12], [2, 2]];

/** Reference: full forward of one unpadded prompt, softmax over the label logits at its end. */
function reference(model: DecoderLM, p: number[]): number[] {
  return tf.tidy(() => {
    const logits = model.forward(tf.tensor2d([p], undefined, 'int32'));
    const last = tf.reshape(tf.slice(logits, [0, p.length - 1, 0], [1, 1, -1]), [cfg.vocabSize]);
    return tf.softmax(tf.gather(last, tf.tensor1d(labels, 'int32')));
  }).arraySync() as number[];
}

for (const backend of ['cpu', 'wasm']) {
  describe(`scoreLabels on ${backend}`, () => {
    beforeAll(async () => {
      expect(await initBackend(backend)).toBe(backend);
    });

    it('gives label probabilities that sum to 1 and match a per-prompt forward pass', () => {
      const model = new DecoderLM(cfg);
      const probs = scoreLabels(model, prompts, labels, 3);
      expect(probs).toHaveLength(4);
      probs.forEach((row, i) => {
        expect(row).toHaveLength(5);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const ref = reference(model, prompts[i]);
        row.forEach((p, j) => expect(p).toBeCloseTo(ref[j], 5));
      });
      model.dispose();
    });

    it('does not depend on batch size or on the other prompts in the batch (padding is harmless)', () => {
      const model = new DecoderLM(cfg);
      const a = scoreLabels(model, prompts, labels, 1);
      const b = scoreLabels(model, prompts, labels, 4);
      a.forEach((row, i) => row.forEach((p, j) => expect(b[i][j]).toBeCloseTo(p, 5)));
      model.dispose();
    });

    it('works with an untied head and leaks no tensors', () => {
      const model = new DecoderLM({ ...cfg, tieEmbeddings: false });
      const before = tf.memory().numTensors;
      const probs = scoreLabels(model, prompts, labels, 2);
      expect(tf.memory().numTensors).toBe(before);
      probs.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo(reference(model, prompts[i])[j], 5)));
      model.dispose();
    });

    it('keeps the end of an over-long prompt', () => {
      const model = new DecoderLM(cfg);
      const long = Array.from({ length: 15 }, (_, i) => 1 + i);
      const [p] = scoreLabels(model, [long], labels, 1);
      const ref = reference(model, long.slice(5));
      p.forEach((x, j) => expect(x).toBeCloseTo(ref[j], 5));
      model.dispose();
    });
  });
}
