import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfigInput } from './config.ts';
import { DecoderLM, type ForwardOptions } from './gpt.ts';
import { addBias, matmul, oneHotFloat } from './ops.ts';
import { Rng, hash32 } from '../util/rng.ts';

/**
 * The BERT-style baseline: the same transformer trunk with bidirectional attention
 * (causal=false), pooled to one vector per sequence, and a linear classifier over the labels.
 * Trained with plain cross-entropy through the same explicit step (optimizeStep) as the LM.
 */
export interface EncoderClassifierConfig {
  encoder: Omit<ModelConfigInput, 'causal'>;
  numClasses: number;
  /** 'mean' over real tokens (robust without a [CLS] pre-training objective) or the 'first' token. */
  pooling?: 'mean' | 'first';
}

export class EncoderClassifier {
  readonly encoder: DecoderLM;
  readonly numClasses: number;
  readonly pooling: 'mean' | 'first';
  private readonly w: tf.Variable;
  private readonly b: tf.Variable;

  constructor(cfg: EncoderClassifierConfig) {
    this.encoder = new DecoderLM({ ...cfg.encoder, causal: false });
    this.numClasses = cfg.numClasses;
    this.pooling = cfg.pooling ?? 'mean';
    const D = this.encoder.config.dModel;
    const rng = new Rng(hash32((this.encoder.config.seed ^ 0xc1a55) >>> 0));
    const w0 = tf.tensor2d(Float32Array.from({ length: D * cfg.numClasses }, () => rng.normal() * 0.02), [D, cfg.numClasses]);
    const b0 = tf.zeros([cfg.numClasses]);
    // Names carry the encoder's unique variable prefix so several classifiers can coexist.
    const prefix = this.encoder.params().get('tok_emb')!.name.replace(/tok_emb$/, '');
    this.w = tf.variable(w0, true, prefix + 'cls.w');
    this.b = tf.variable(b0, true, prefix + 'cls.b');
    tf.dispose([w0, b0]);
  }

  params(): Map<string, tf.Variable> {
    const m = this.encoder.params();
    m.set('cls.w', this.w);
    m.set('cls.b', this.b);
    return m;
  }

  /** Restores a snapshotParams copy of params() (trunk and head). */
  assignParams(values: Map<string, Float32Array>): void {
    this.encoder.assignParams(values);
    for (const [name, v] of [['cls.w', this.w], ['cls.b', this.b]] as const) {
      const data = values.get(name);
      if (!data || data.length !== v.size) throw new Error(`EncoderClassifier: ${name} missing or of the wrong size`);
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }

  /** Class logits [B,C]; attentionMask [B,T] (1 = token, 0 = padding) keeps padding out. */
  logits(ids: tf.Tensor2D, attentionMask: tf.Tensor2D, opts: Omit<ForwardOptions, 'attentionMask'> = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.encoder.hidden(ids, { ...opts, attentionMask }); // [B,T,D]
      let pooled: tf.Tensor2D;
      if (this.pooling === 'first') {
        pooled = tf.reshape(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [ids.shape[0], this.encoder.config.dModel]);
      } else {
        const m = tf.expandDims(tf.cast(attentionMask, 'float32'), 2); // [B,T,1]
        pooled = tf.div(tf.sum(tf.mul(h, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
      }
      return addBias(matmul(pooled, this.w as tf.Tensor2D), this.b) as tf.Tensor2D;
    });
  }

  /** Mean cross-entropy against integer labels [B]. */
  loss(ids: tf.Tensor2D, attentionMask: tf.Tensor2D, labels: tf.Tensor1D, opts: Omit<ForwardOptions, 'attentionMask'> = {}): tf.Scalar {
    return tf.tidy(() => {
      const logp = tf.logSoftmax(this.logits(ids, attentionMask, opts));
      return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHotFloat(labels, this.numClasses)), 1))) as tf.Scalar;
    });
  }

  /** Class probabilities per row (no dropout). */
  predictProba(ids: tf.Tensor2D, attentionMask: tf.Tensor2D): number[][] {
    const p = tf.tidy(() => tf.softmax(this.logits(ids, attentionMask)));
    const out = p.arraySync() as number[][];
    p.dispose();
    return out;
  }

  dispose(): void {
    this.encoder.dispose();
    this.w.dispose();
    this.b.dispose();
  }
}
