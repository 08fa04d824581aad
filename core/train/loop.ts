import type { TrainConfig } from '../model/config.ts';
import type { CausalLM } from '../model/lm.ts';
import { Rng, hash32 } from '../util/rng.ts';
import { AdamW } from './adamw.ts';
import { makeBatch, type BatchOptions, type LMExample } from './batch.ts';
import { lrAt } from './schedule.ts';
import { NonFiniteLossError, trainStep, type Trainable } from './step.ts';

export interface TrainHooks {
  /** Called after every step; `step` is 0-based. */
  onStep?: (step: number, loss: number, tokensPerSec: number, lr: number) => void;
  /** Continue with this optimizer (resume); a fresh AdamW otherwise. */
  optimizer?: AdamW;
  /** First step to run (resume from a checkpoint's step). */
  startStep?: number;
  /** Stop before this step (default trainCfg.steps); the schedule still spans trainCfg.steps. */
  stopStep?: number;
  batch?: Partial<BatchOptions>;
}

export interface TrainResult {
  losses: number[];
  optimizer: AdamW;
  /** Steps completed, counting from 0 (the step to resume at). */
  step: number;
}

export function makeOptimizer(model: Trainable, cfg: TrainConfig): AdamW {
  return new AdamW(model.params(), {
    betas: cfg.betas,
    eps: cfg.eps,
    weightDecay: cfg.weightDecay,
    decayEmbeddings: cfg.decayEmbeddings,
  });
}

/**
 * Example indices of batch `step`: each epoch is a fresh seeded permutation, cut into full
 * batches (the ragged tail is dropped; it differs every epoch). A function of (seed, step) only,
 * so a resumed run sees exactly the batches the uninterrupted one would have.
 */
export function batchIndices(n: number, batchSize: number, seed: number, step: number): number[] {
  if (n === 0) throw new Error('trainLM: no training examples');
  const perEpoch = Math.max(1, Math.floor(n / batchSize));
  const epoch = Math.floor(step / perEpoch);
  const k = step % perEpoch;
  const order = new Rng(hash32((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0)).shuffle(
    Array.from({ length: n }, (_, i) => i),
  );
  return order.slice(k * batchSize, (k + 1) * batchSize);
}

/** Trains `model` on completion tokens of `examples`; returns the per-step losses. */
export function trainLM(model: CausalLM, examples: LMExample[], cfg: TrainConfig, hooks: TrainHooks = {}): TrainResult {
  const optimizer = hooks.optimizer ?? makeOptimizer(model, cfg);
  const losses: number[] = [];
  const start = hooks.startStep ?? 0;
  const stop = Math.min(hooks.stopStep ?? cfg.steps, cfg.steps);
  const batchOpts: BatchOptions = { contextLength: model.config.contextLength, ...hooks.batch };
  let step = start;
  for (; step < stop; step++) {
    const t0 = performance.now();
    const batch = makeBatch(
      batchIndices(examples.length, cfg.batchSize, cfg.seed, step).map((i) => examples[i]),
      batchOpts,
    );
    const lr = lrAt(step, cfg);
    let loss: number;
    try {
      ({ loss } = trainStep(model, optimizer, batch, {
        lr,
        clipNorm: cfg.clipNorm,
        dropoutSeed: hash32((cfg.seed * 0x27d4eb2d + step) >>> 0),
      }));
    } catch (e) {
      if (e instanceof NonFiniteLossError) e.message = `step ${step + 1}: ${e.message}`;
      throw e;
    }
    losses.push(loss);
    const secs = (performance.now() - t0) / 1000;
    hooks.onStep?.(step, loss, batch.tokens / secs, lr);
  }
  return { losses, optimizer, step };
}
