import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, KVCache } from './gpt.ts';

/**
 * What the stages, the training loop and decoding use of a causal LM: DecoderLM (ours, from
 * scratch) and the imported Hugging Face models (core/model/hf/) both satisfy it, so a stage
 * typed against it runs on either.
 */
export interface CausalLM {
  readonly config: { contextLength: number; vocabSize: number; dModel: number; causal: boolean; seed: number };
  hidden(ids: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  forward(ids: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor3D;
  logitsFlat(ids: tf.Tensor2D, opts?: ForwardOptions): tf.Tensor2D;
  head(h: tf.Tensor2D): tf.Tensor2D;
  headFor(h: tf.Tensor2D, tokenIds: number[]): tf.Tensor2D;
  /**
   * Logits [B,V] of the last of `ids` [B,T] after the cached tokens (extends `cache`); with `last`,
   * of row b's position last[b] (right-padded prompts prefilled together).
   */
  decode(ids: tf.Tensor2D, cache: KVCache, last?: readonly number[]): tf.Tensor2D;
  /** The trainable parameters (for an adapter-tuned model: the adapters only). */
  params(): Map<string, tf.Variable>;
  numParams(): number;
  assignParams(values: Map<string, Float32Array>): void;
  clone(): CausalLM;
  dispose(): void;
}

/** The trainable parameters' values as plain arrays: a restorable copy (assignParams) or a before/after comparison. */
export function snapshotParams(model: Pick<CausalLM, 'params'>): Map<string, Float32Array> {
  return new Map([...model.params()].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
}
