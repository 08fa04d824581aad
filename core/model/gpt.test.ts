import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { DecoderLM } from './gpt.ts';

const cfg = { vocabSize: 20, contextLength: 12, dModel: 16, nHeads: 4, nLayers: 2, dropout: 0, seed: 7 };

function logits(model: DecoderLM, rows: number[][], mask?: number[][]): Float32Array {
  return tf.tidy(() =>
    model.forward(tf.tensor2d(rows, undefined, 'int32'), { attentionMask: mask ? tf.tensor2d(mask) : undefined }),
  ).dataSync() as Float32Array;
}

describe('DecoderLM', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('has the expected parameter set and count', () => {
    const m = new DecoderLM(cfg);
    // tok 20·16 + pos 12·16 + 2 layers × (4·(16·16+16) + 2·2·16 + 16·64+64 + 64·16+16) + final LN 2·16
    expect(m.numParams()).toBe(320 + 192 + 2 * (1088 + 64 + 1088 + 1040) + 32);
    expect(m.params().has('lm_head')).toBe(false); // tied by default
    const untied = new DecoderLM({ ...cfg, tieEmbeddings: false });
    expect(untied.params().get('lm_head')!.shape).toEqual([16, 20]);
    m.dispose();
    untied.dispose();
  });

  it('forward gives [B,T,V] logits and is causal: later tokens never change earlier logits', () => {
    const m = new DecoderLM(cfg);
    const a = logits(m, [[1, 2, 3, 4, 5, 6]]);
    const b = logits(m, [[1, 2, 3, 9, 9, 9]]);
    expect(a.length).toBe(6 * 20);
    for (let i = 0; i < 3 * 20; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    expect(Math.abs(b[3 * 20] - a[3 * 20])).toBeGreaterThan(1e-4);
    m.dispose();
  });

  it('same seed ⇒ same weights; another seed ⇒ different', () => {
    const [a, b, c] = [new DecoderLM(cfg), new DecoderLM(cfg), new DecoderLM({ ...cfg, seed: 8 })];
    const w = (m: DecoderLM) => Array.from(m.params().get('h0.attn.wq')!.dataSync().slice(0, 8));
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('encoder mode (causal=false) sees the future, and the attention mask hides padding', () => {
    const m = new DecoderLM({ ...cfg, causal: false });
    const a = logits(m, [[1, 2, 3, 4]]);
    const b = logits(m, [[1, 2, 3, 9]]);
    expect(Math.abs(a[0] - b[0])).toBeGreaterThan(1e-5); // position 0 sees position 3
    // Right-padding with different junk is invisible under the mask.
    const p1 = logits(m, [[1, 2, 3, 0, 0]], [[1, 1, 1, 0, 0]]);
    const p2 = logits(m, [[1, 2, 3, 7, 5]], [[1, 1, 1, 0, 0]]);
    const bare = logits(m, [[1, 2, 3]]);
    for (let i = 0; i < 3 * 20; i++) {
      expect(p1[i]).toBeCloseTo(p2[i], 5);
      expect(p1[i]).toBeCloseTo(bare[i], 5);
    }
    m.dispose();
  });

  it('dropout is active only in training and is reproducible from its seed', () => {
    const m = new DecoderLM({ ...cfg, dropout: 0.5 });
    const ids = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
    const run = (o: object) => tf.tidy(() => m.forward(ids, o)).dataSync();
    expect(Array.from(run({}))).toEqual(Array.from(run({})));
    expect(Array.from(run({ training: true, dropoutSeed: 1 }))).toEqual(Array.from(run({ training: true, dropoutSeed: 1 })));
    expect(Array.from(run({ training: true, dropoutSeed: 1 }))).not.toEqual(Array.from(run({ training: true, dropoutSeed: 2 })));
    ids.dispose();
    m.dispose();
  });

  it('leaks no tensors in forward/hidden, and dispose frees everything it made', () => {
    const before = tf.memory().numTensors;
    const m = new DecoderLM(cfg);
    const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
    const mid = tf.memory().numTensors;
    tf.dispose([m.forward(ids), m.hidden(ids), m.logitsFlat(ids, { training: true })]);
    expect(tf.memory().numTensors).toBe(mid);
    ids.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects sequences longer than the context', () => {
    const m = new DecoderLM(cfg);
    const ids = tf.zeros([1, 13], 'int32') as tf.Tensor2D;
    expect(() => m.forward(ids)).toThrow(/exceed contextLength 12/);
    ids.dispose();
    m.dispose();
  });
});
