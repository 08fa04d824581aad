import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions } from '../model/gpt.ts';
import type { CausalLM } from '../model/lm.ts';
import { embed, tokenLogProbs } from '../model/ops.ts';
import { onNative, sumSquares } from '../model/native-ops.ts';
import type { AdamW } from './adamw.ts';
import type { TokenBatch } from './batch.ts';

/** Batch arrays as tensors. Call inside a tidy (or a variableGrads closure) so they are freed. */
export function batchTensors(batch: TokenBatch) {
  const { batchSize: B, seqLen: T } = batch;
  return {
    ids: tf.tensor2d(batch.inputs, [B, T], 'int32'),
    targets: tf.tensor1d(batch.targets, 'int32'),
    lossMask: tf.tensor1d(batch.lossMask, 'float32'),
    attention: tf.tensor2d(batch.attention, [B, T], 'float32'),
  };
}

export interface LossOptions extends ForwardOptions {
  /**
   * Apply the LM head only at the positions in the loss (lossMask ≠ 0): the hidden rows there
   * are gathered before the [D,V] head matmul and the softmax, which otherwise run over every
   * position — label SFT has ~2 loss positions per sequence of ~50. Same maths (only the order
   * of the final sums differs). 'auto' (default) does it when at most half the positions count.
   */
  maskedHead?: boolean | 'auto';
}

/** Flat positions with a non-zero loss mask, when the head should run on those rows only. */
function maskedRows(batch: TokenBatch, opt: LossOptions['maskedHead']): Int32Array | undefined {
  if (opt === false) return undefined;
  const rows: number[] = [];
  batch.lossMask.forEach((w, i) => {
    if (w !== 0) rows.push(i);
  });
  if (rows.length === 0) return undefined; // nothing to gather: the full path gives the zeros
  if ((opt ?? 'auto') === 'auto' && rows.length > batch.lossMask.length / 2) return undefined;
  return Int32Array.from(rows);
}

/**
 * log p(target) at the loss positions → { lp [N], weights [N] (the loss mask there), rows }:
 * every position (rows undefined) or only the masked ones (rows = their flat indices).
 * Padding needs no attention mask in a causal model: pads sit after every real token, so no real
 * position can see them.
 */
function lossLogProbs(model: CausalLM, batch: TokenBatch, opts: LossOptions) {
  const { maskedHead, ...fwd } = opts;
  const t = batchTensors(batch);
  const forward = { ...fwd, attentionMask: model.config.causal ? undefined : t.attention };
  const rows = maskedRows(batch, maskedHead);
  if (!rows) return { lp: tokenLogProbs(model.logitsFlat(t.ids, forward), t.targets), weights: t.lossMask, rows };
  const { batchSize: B, seqLen: T } = batch;
  const idx = tf.tensor1d(rows, 'int32');
  const h = tf.reshape(model.hidden(t.ids, forward), [B * T, model.config.dModel]) as tf.Tensor2D;
  // embed = a row gather that trains on every backend (one-hot matmul where gather has no gradient).
  const logits = model.head(embed(idx, h));
  const lp = tokenLogProbs(logits, tf.gather(t.targets, idx) as tf.Tensor1D);
  return { lp, weights: tf.tensor1d(Array.from(rows, (r) => batch.lossMask[r]), 'float32'), rows };
}

/** Mean cross-entropy over the completion tokens (lossMask = 1) of the batch: a scalar. */
export function lmLoss(model: CausalLM, batch: TokenBatch, opts: LossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const { lp, weights } = lossLogProbs(model, batch, opts);
    return tf.div(tf.neg(tf.sum(tf.mul(lp, weights))), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}

/**
 * Σ log p(completion token) per row over the loss mask → [B]; differentiable (DPO's log π(y|x)).
 */
export function sequenceLogProbs(model: CausalLM, batch: TokenBatch, opts: LossOptions = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const { batchSize: B, seqLen: T } = batch;
    const { lp, weights, rows } = lossLogProbs(model, batch, opts);
    if (!rows) return tf.sum(tf.reshape(tf.mul(lp, weights), [B, T]), 1) as tf.Tensor1D;
    // Per-row sums of the gathered positions: [B, N] row-assignment matrix (mask weights) · lp.
    const assign = new Float32Array(B * rows.length);
    rows.forEach((r, i) => {
      assign[Math.floor(r / T) * rows.length + i] = batch.lossMask[r];
    });
    return tf.reshape(tf.matMul(tf.tensor2d(assign, [B, rows.length]), tf.reshape(lp, [rows.length, 1])), [B]) as tf.Tensor1D;
  });
}

export interface StepOptions {
  lr: number;
  /** Clip the global gradient norm to this (Infinity: no clipping). */
  clipNorm: number;
  /** Seeds dropout for this step; the loop derives it from (train seed, step). */
  dropoutSeed?: number;
}

/** Anything with named trainable variables: the LM, the encoder classifier. */
export interface Trainable {
  params(): Map<string, tf.Variable>;
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/**
 * Runs any scalar loss through the explicit step: tf.variableGrads → clip by global norm →
 * AdamW update → free the gradients. Used by SFT here and by DPO with its own loss.
 */
export function optimizeStep(model: Trainable, optimizer: AdamW, lossFn: () => tf.Scalar, opts: StepOptions): StepResult {
  const params = model.params();
  const byTfName = new Map<string, string>();
  for (const [name, v] of params) byTfName.set(v.name, name);
  const { value, grads } = tf.variableGrads(lossFn, [...params.values()]);
  const gradMap = new Map<string, tf.Tensor>();
  for (const [tfName, g] of Object.entries(grads)) gradMap.set(byTfName.get(tfName) ?? tfName, g);
  if (onNative()) return nativeClipAndApply(optimizer, gradMap, value, opts);
  const { scale, stats } = tf.tidy(() => {
    const sumSq = tf.addN([...gradMap.values()].map((g) => tf.sum(tf.square(g))));
    const norm = tf.sqrt(sumSq);
    const clip = Number.isFinite(opts.clipNorm) ? opts.clipNorm : Number.MAX_VALUE;
    // clip / max(norm, clip): 1 when the norm is within bounds, else shrinks it to `clip`.
    return { scale: tf.div(clip, tf.maximum(norm, clip)) as tf.Scalar, stats: tf.stack([value, norm]) };
  });
  optimizer.apply(gradMap, opts.lr, scale);
  const [loss, gradNorm] = stats.dataSync(); // the step's one sync with the backend
  tf.dispose([value, scale, stats, ...gradMap.values()]);
  checkFinite(loss, gradNorm);
  return { loss, gradNorm };
}

/**
 * The clip and update on 'lref-native', where tensors live in CPU memory: the global norm is one
 * native pass over the gradient arrays (accumulated in double), instead of 2 ops per parameter and
 * an addN, and the scale goes to the fused AdamW kernels as a number.
 */
function nativeClipAndApply(optimizer: AdamW, gradMap: Map<string, tf.Tensor>, value: tf.Scalar, opts: StepOptions): StepResult {
  const gradNorm = Math.sqrt(sumSquares(gradMap.values()));
  const loss = value.dataSync()[0]; // free here: the tensor lives in CPU memory
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    tf.dispose([value, ...gradMap.values()]);
    checkFinite(loss, gradNorm); // before the update: the weights stay as they were
  }
  const clip = Number.isFinite(opts.clipNorm) ? opts.clipNorm : Number.MAX_VALUE;
  optimizer.apply(gradMap, opts.lr, clip / Math.max(gradNorm, clip));
  tf.dispose([value, ...gradMap.values()]);
  return { loss, gradNorm };
}

/** Thrown when a step's loss or gradient norm is NaN or infinite: the run has diverged. */
export class NonFiniteLossError extends Error {
  constructor(readonly loss: number, readonly gradNorm: number) {
    super(`training diverged: the loss is ${loss} and the gradient norm ${gradNorm}; ` +
      'lower the learning rate, raise the warmup or check the data for empty or extreme examples');
    this.name = 'NonFiniteLossError';
  }
}

function checkFinite(loss: number, gradNorm: number): void {
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(loss, gradNorm);
}

/** One SFT step on a batch: completion-token cross-entropy. */
export function trainStep(model: CausalLM, optimizer: AdamW, batch: TokenBatch, opts: StepOptions): StepResult {
  return optimizeStep(model, optimizer, () => lmLoss(model, batch, { training: true, dropoutSeed: opts.dropoutSeed }), opts);
}

/** Loss without training (dropout off, no gradients). */
export function evalLoss(model: CausalLM, batch: TokenBatch): number {
  const l = lmLoss(model, batch);
  const v = l.dataSync()[0];
  l.dispose();
  return v;
}
