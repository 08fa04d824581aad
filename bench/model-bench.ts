/**
 * Times the real model code (core/model/gpt.ts, core/train/step.ts) on the current TF.js backend:
 * training tokens/s (trainStep on full-context batches), label-scoring pairs/s (one forward per
 * batch, label logits at the last position) and generation tokens/s (batch 1, KV cache, greedy).
 * Each figure is the median of `repeat` timed runs after one warm-up.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { DecoderLM, KVCache } from '../core/model/gpt.ts';
import { greedyBatch } from '../core/train/generate.ts';
import { makeOptimizer } from '../core/train/loop.ts';
import { trainStep } from '../core/train/step.ts';
import type { TokenBatch } from '../core/train/batch.ts';
import { TrainConfig } from '../core/model/config.ts';
import { Rng } from '../core/util/rng.ts';
import type { BenchWorkload } from './presets.ts';

export interface ModelFigures {
  trainTokensPerSec: number;
  scorePairsPerSec: number;
  /** one prompt, KV cache, greedy, token by token (what decoding cost before batching) */
  genTokensPerSec: number;
  /** batched greedy decoding (generate.ts greedyBatch), tokens/s by batch size (prefill included) */
  genBatchTokensPerSec?: Record<string, number>;
  params: number;
}

/** The batch sizes of the batched-generation figure. */
export const GEN_BATCHES = [1, 8, 32] as const;

/** The prompts of the batched-generation figure: seeded, genPrompt tokens each (PyTorch gets the same). */
export function genPrompts(w: BenchWorkload, n: number, seed = 11): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: w.genPrompt }, () => rng.int(w.model.vocabSize)));
}

/**
 * Writes the model's weights for bench/torch_ref.py: `file` holds every parameter's float32 values
 * back to back (little-endian), `file`.json their names, shapes and offsets.
 */
export function exportWeights(model: DecoderLM, file: string): void {
  const parts: Float32Array[] = [];
  const index: { name: string; shape: number[]; offset: number }[] = [];
  let offset = 0;
  for (const [name, v] of model.params()) {
    const data = v.dataSync() as Float32Array;
    index.push({ name, shape: v.shape, offset });
    parts.push(data);
    offset += data.length;
  }
  const all = new Float32Array(offset);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  writeFileSync(file, Buffer.from(all.buffer));
  writeFileSync(`${file}.json`, JSON.stringify(index));
}

export interface RunPlan {
  repeat: number;
  /** Timed calls per run for training and scoring (the slow cpu backend gets 1). */
  steps: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median over `repeat` runs of units·inner / seconds, after one warm-up call. */
export function medianRate(fn: () => void, units: number, plan: { repeat: number; inner: number }): number {
  fn();
  const rates: number[] = [];
  for (let r = 0; r < plan.repeat; r++) {
    const t0 = performance.now();
    for (let i = 0; i < plan.inner; i++) fn();
    rates.push((units * plan.inner) / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** A full-context batch of seeded random tokens, loss on every position. */
export function randomBatch(w: BenchWorkload, seed = 7): TokenBatch {
  const { batch: B, model } = w;
  const T = model.contextLength;
  const rng = new Rng(seed);
  const n = B * T;
  const inputs = new Int32Array(n);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    inputs[i] = rng.int(model.vocabSize);
    targets[i] = rng.int(model.vocabSize);
  }
  return {
    batchSize: B, seqLen: T, inputs, targets, lossMask: new Float32Array(n).fill(1),
    attention: new Float32Array(n).fill(1), tokens: n, truncated: 0,
  };
}

/** A fresh model of the preset (seeded: the same weights every run, and the ones PyTorch gets). */
export function benchModelOf(w: BenchWorkload): DecoderLM {
  return new DecoderLM(w.model);
}

/** Batched greedy generation: B prompts of genPrompt tokens, genTokens new tokens each, no stop token. */
export function genBatchFigures(model: DecoderLM, w: BenchWorkload, repeat: number): { rates: Record<string, number>; tokens: number[][] } {
  const rates: Record<string, number> = {};
  let tokens: number[][] = [];
  for (const B of GEN_BATCHES) {
    const prompts = genPrompts(w, B);
    const run = () => {
      tokens = greedyBatch(model, prompts, { maxNewTokens: w.genTokens, rows: B }).map((b) => b.tokens);
    };
    rates[String(B)] = medianRate(run, B * w.genTokens, { repeat, inner: 1 });
  }
  return { rates, tokens };
}

/** Runs fn, adding its wall seconds to phases[name] (the bench logs where its own time goes). */
export function timed<T>(phases: Record<string, number> | undefined, name: string, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    if (phases) phases[name] = (phases[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

export function benchModel(w: BenchWorkload, plan: RunPlan, phases?: Record<string, number>): ModelFigures {
  const model = benchModelOf(w);
  const optimizer = makeOptimizer(model, TrainConfig.parse({ lr: w.lr }));
  const batch = randomBatch(w);
  const { batch: B, model: cfg } = w;
  const T = cfg.contextLength;
  try {
    const trainTokensPerSec = timed(phases, 'train', () => medianRate(
      () => trainStep(model, optimizer, batch, { lr: w.lr, clipNorm: 1, dropoutSeed: 1 }), B * T,
      { repeat: plan.repeat, inner: plan.steps }));

    const ids = tf.tensor2d(batch.inputs, [B, T], 'int32');
    const labelIds = Array.from({ length: w.labels }, (_, i) => i);
    const score = () => {
      const probs = tf.tidy(() => {
        const h = model.hidden(ids);
        const last = tf.reshape(tf.slice(h, [0, T - 1, 0], [B, 1, cfg.dModel]), [B, cfg.dModel]) as tf.Tensor2D;
        return tf.softmax(model.headFor(last, labelIds));
      });
      probs.dataSync();
      probs.dispose();
    };
    const scorePairsPerSec = timed(phases, 'score', () => medianRate(score, B, { repeat: plan.repeat, inner: plan.steps }));
    ids.dispose();

    const prompt = tf.tensor2d(batch.inputs.slice(0, w.genPrompt), [1, w.genPrompt], 'int32');
    const generate = () => {
      const cache = new KVCache();
      let logits = model.decode(prompt, cache);
      for (let i = 1; i < w.genTokens; i++) {
        const next = tf.tidy(() => tf.reshape(tf.cast(tf.argMax(logits, -1), 'int32'), [1, 1])) as tf.Tensor2D;
        next.dataSync(); // a real generator reads each token (stop tokens, streaming)
        logits.dispose();
        logits = model.decode(next, cache);
        next.dispose();
      }
      logits.dispose();
      cache.dispose();
    };
    const genTokensPerSec = timed(phases, 'gen', () => medianRate(generate, w.genTokens, { repeat: plan.repeat, inner: 1 }));
    prompt.dispose();
    return { trainTokensPerSec, scorePairsPerSec, genTokensPerSec, params: model.numParams() };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
