import * as tf from '@tensorflow/tfjs-core';
import type { DecoderLM, ForwardOptions } from '../model/gpt.ts';
import { tokenLogProbs } from '../model/ops.ts';
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

/** Per-position log p(target) [B·T] (unmasked). Padding needs no attention mask in a causal model:
 *  pads sit after every real token, so no real position can see them. */
function positionLogProbs(model: DecoderLM, t: ReturnType<typeof batchTensors>, opts: ForwardOptions): tf.Tensor1D {
  const attentionMask = model.config.causal ? undefined : t.attention;
  return tokenLogProbs(model.logitsFlat(t.ids, { ...opts, attentionMask }), t.targets);
}

/** Mean cross-entropy over the completion tokens (lossMask = 1) of the batch: a scalar. */
export function lmLoss(model: DecoderLM, batch: TokenBatch, opts: ForwardOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const t = batchTensors(batch);
    const lp = positionLogProbs(model, t, opts);
    return tf.div(tf.neg(tf.sum(tf.mul(lp, t.lossMask))), tf.maximum(tf.sum(t.lossMask), 1)) as tf.Scalar;
  });
}

/**
 * Σ log p(completion token) per row over the loss mask → [B]; differentiable (DPO's log π(y|x)).
 */
export function sequenceLogProbs(model: DecoderLM, batch: TokenBatch, opts: ForwardOptions = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const t = batchTensors(batch);
    const lp = positionLogProbs(model, t, opts);
    return tf.sum(tf.reshape(tf.mul(lp, t.lossMask), [batch.batchSize, batch.seqLen]), 1) as tf.Tensor1D;
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
  return { loss, gradNorm };
}

/** One SFT step on a batch: completion-token cross-entropy. */
export function trainStep(model: DecoderLM, optimizer: AdamW, batch: TokenBatch, opts: StepOptions): StepResult {
  return optimizeStep(model, optimizer, () => lmLoss(model, batch, { training: true, dropoutSeed: opts.dropoutSeed }), opts);
}

/** Loss without training (dropout off, no gradients). */
export function evalLoss(model: DecoderLM, batch: TokenBatch): number {
  const l = lmLoss(model, batch);
  const v = l.dataSync()[0];
  l.dispose();
  return v;
}
