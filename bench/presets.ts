/**
 * What `lref bench` measures: the model presets (from core/model/presets.ts, batch 16) and the
 * workload of each figure. Shared with the PyTorch reference so both run the same thing.
 */
import { presets } from '../core/model/presets.ts';
import type { ModelConfig } from '../core/model/config.ts';

export const BENCH_PRESETS = ['tiny', 'small'] as const;
export type BenchPresetName = (typeof BENCH_PRESETS)[number];

export interface BenchWorkload {
  model: ModelConfig;
  batch: number;
  lr: number;
  /** Prompt length and new tokens of the generation figure (batch 1, KV cache, greedy). */
  genPrompt: number;
  genTokens: number;
  /** Label tokens scored at the last position (the LREF-5 grades). */
  labels: number;
}

export function workload(name: BenchPresetName): BenchWorkload {
  const p = presets[name];
  return { model: p.model, batch: p.train.batchSize, lr: p.train.lr, genPrompt: 32, genTokens: 32, labels: 5 };
}

/**
 * The preset as bench/torch_ref.py reads it; with `gen`, also the batched-generation figure: our
 * model's weights (a file written by exportWeights), the prompts and the batch sizes.
 */
export function torchPresetJson(w: BenchWorkload, gen?: { weights: string; prompts: number[][]; batches: readonly number[] }) {
  const m = w.model;
  return {
    vocab: m.vocabSize, ctx: m.contextLength, d: m.dModel, heads: m.nHeads, layers: m.nLayers,
    batch: w.batch, lr: w.lr, genPrompt: w.genPrompt, genTokens: w.genTokens,
    ...(gen ? { genWeights: gen.weights, genPrompts: gen.prompts, genBatches: gen.batches } : {}),
  };
}
