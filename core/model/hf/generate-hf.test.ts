import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from '../native-backend.ts';
import { beamSearch, beamSearchBatch, greedy, greedyBatch } from '../../train/generate.ts';
import { loadHFModel } from './load.ts';

// The imported models through the batched generation API (ragged KV cache, one row per prompt or
// beam, rows dropped as they finish): the same tokens as decoding each prompt alone.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, 'testdata', 'hf_ref.py');
const haveTorch = spawnSync(PY, ['-c', 'import torch, regex'], { encoding: 'utf8' }).status === 0;
const backends = ['cpu', ...(nativeBackendStatus().registered ? [NATIVE_BACKEND] : [])];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lref-hf-gen-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ARCHS = {
  gpt2: ['--arch', 'gpt2', '--positions', '64', '--std', '0.3'],
  llama: ['--arch', 'llama', '--kv-heads', '2', '--positions', '64', '--std', '0.3'],
} as const;

// Ragged on purpose: different lengths, so rows sit at different positions.
const prompts = [[5, 9, 20], [7, 3, 11, 40, 2, 8, 13], [100, 4, 6, 17, 9], [12, 33, 3, 7, 21, 60, 5, 2, 31], [8, 8]];

describe.skipIf(!haveTorch)('batched generation on imported models', () => {
  for (const [arch, args] of Object.entries(ARCHS)) {
    for (const backend of backends) {
      it(`${arch} on ${backend}: greedyBatch and beamSearchBatch equal one-at-a-time decoding, no tensor leak`, { timeout: 300_000 }, async () => {
        const dir = join(root, arch);
        execFileSync(PY, [REF, 'make', dir, ...args]);
        await tf.setBackend(backend);
        const model = loadHFModel(dir);
        try {
          const alone = prompts.map((p) => greedy(model, p, { maxNewTokens: 8 }));
          // A stop token some rows emit early, so rows leave the batch at different steps.
          const stop = alone[1].tokens[2];
          const opts = { maxNewTokens: 8, stopTokens: [stop] };
          const ref = prompts.map((p) => greedy(model, p, opts));
          expect(ref.some((b) => b.finished)).toBe(true);
          const before = tf.memory().numTensors;
          const batched = greedyBatch(model, prompts, { ...opts, rows: 3 });
          expect(batched.map((b) => b.tokens)).toEqual(ref.map((b) => b.tokens));
          batched.forEach((b, i) => expect(b.logProb).toBeCloseTo(ref[i].logProb, 3));

          const beamOpts = { beamWidth: 2, maxNewTokens: 6, stopTokens: [stop] };
          const beamRef = prompts.map((p) => beamSearch(model, p, beamOpts));
          const beams = beamSearchBatch(model, prompts, { ...beamOpts, rows: 4 });
          expect(beams.map((bs) => bs.map((b) => b.tokens))).toEqual(beamRef.map((bs) => bs.map((b) => b.tokens)));
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          model.dispose();
        }
      });
    }
  }
});
