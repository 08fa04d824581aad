import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { DecoderLM, KVCache } from './gpt.ts';
import { nativeDecodeSteps, useNativeDecodeStep } from './native-decode.ts';
import { Rng } from '../util/rng.ts';

// The fused decode step (addon calls outside the TF.js engine) must be the kernel path exactly:
// the same logits and the same cache contents, bit for bit, step after step, rows dropped midway.
const native = nativeBackendStatus().registered;

describe.skipIf(!native)('native decode step', () => {
  beforeAll(async () => {
    expect(await initBackend(NATIVE_BACKEND)).toBe(NATIVE_BACKEND);
  });
  afterAll(() => useNativeDecodeStep(true));

  /** Prefills right-padded prompts, then decodes `steps` tokens per row (dropping row 1 after step 2); logits and final cache. */
  function run(m: DecoderLM, fused: boolean) {
    useNativeDecodeStep(fused);
    const rng = new Rng(3);
    const lengths = [5, 1, 9, 3];
    const T = Math.max(...lengths);
    const flat = new Int32Array(lengths.length * T);
    lengths.forEach((n, b) => {
      for (let t = 0; t < n; t++) flat[b * T + t] = 1 + rng.int(m.config.vocabSize - 1);
    });
    const ids = tf.tensor2d(flat, [lengths.length, T], 'int32');
    const batch = new KVCache();
    const first = m.decode(ids, batch, lengths.map((n) => n - 1));
    const cache = KVCache.ragged([batch], lengths, T + 6);
    const logits: number[][] = [Array.from(first.dataSync())];
    first.dispose();
    ids.dispose();
    let rows = lengths.length;
    for (let step = 0; step < 5; step++) {
      if (step === 2) {
        cache.reorder([0, 2, 3]);
        rows = 3;
      }
      const next = tf.tensor2d(Array.from({ length: rows }, () => 1 + rng.int(m.config.vocabSize - 1)), [rows, 1], 'int32');
      const out = m.decode(next, cache);
      logits.push(Array.from(out.dataSync()));
      tf.dispose([out, next]);
    }
    const state = { keys: cache.keys.map((k) => Array.from(k.dataSync())), values: cache.values.map((v) => Array.from(v.dataSync())), rowLengths: cache.rowLengths };
    cache.dispose();
    return { logits, state };
  }

  for (const tie of [true, false]) {
    it(`equals the kernel path bit for bit (tied head: ${tie}), leaks no tensors`, () => {
      const m = new DecoderLM({ vocabSize: 50, contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0, seed: 5, tieEmbeddings: tie });
      try {
        const want = run(m, false);
        const steps = nativeDecodeSteps();
        const before = tf.memory().numTensors;
        const got = run(m, true);
        expect(tf.memory().numTensors).toBe(before);
        expect(nativeDecodeSteps() - steps).toBe(5); // every step took the fused path
        expect(got.state.rowLengths).toEqual([10, 14, 8]);
        expect(got).toEqual(want);
      } finally {
        m.dispose();
      }
    });
  }

  it('falls back to the kernel path when the cache is shared (no write into a buffer another tensor sees)', () => {
    const m = new DecoderLM({ vocabSize: 50, contextLength: 24, dModel: 32, nHeads: 4, nLayers: 1, dropout: 0, seed: 5 });
    const batch = new KVCache();
    const ids = tf.tensor2d([[3, 4], [5, 6]], [2, 2], 'int32');
    tf.dispose(m.decode(ids, batch));
    const cache = KVCache.ragged([batch], [2, 1], 4);
    const alias = tf.clone(cache.keys[0]); // shares the buffer
    const before = Array.from(alias.dataSync());
    const next = tf.tensor2d([[7], [8]], [2, 1], 'int32');
    const steps = nativeDecodeSteps();
    tf.dispose(m.decode(next, cache));
    expect(nativeDecodeSteps()).toBe(steps);
    expect(Array.from(alias.dataSync())).toEqual(before);
    tf.dispose([alias, next, ids]);
    cache.dispose();
    m.dispose();
  });
});
