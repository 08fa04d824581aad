import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../model/lm.ts';
import { truncatePrompt } from './batch.ts';

export interface ScoreOptions {
  /** Prompt tokens kept from the start when a prompt is too long (see truncatePrompt). */
  keepPromptHead?: number;
  padId?: number;
}

/**
 * For each prompt, the probability of each label token as the next token, with the softmax
 * restricted to the label tokens: P(label_i | prompt) ∝ exp(logit_i). One forward pass per batch
 * of prompts, and the LM head is applied only to the label rows at each prompt's last position.
 * Returns probs[prompt][label] in the order of `labelTokenIds`.
 */
export function scoreLabels(
  model: CausalLM,
  prompts: number[][],
  labelTokenIds: number[],
  batchSize: number,
  opts: ScoreOptions = {},
): number[][] {
  if (labelTokenIds.length === 0) throw new Error('scoreLabels: no label tokens');
  const { contextLength: C } = model.config;
  const out: number[][] = [];
  for (let i = 0; i < prompts.length; i += batchSize) {
    const rows = prompts.slice(i, i + batchSize).map((p) => {
      if (p.length === 0) throw new Error(`scoreLabels: prompt ${i} is empty`);
      return truncatePrompt(p, C, opts.keepPromptHead ?? 0);
    });
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(B * T).fill(opts.padId ?? 0);
    const attention = new Float32Array(B * T);
    const lastRow = new Int32Array(B);
    rows.forEach((r, b) => {
      ids.set(r, b * T);
      attention.fill(1, b * T, b * T + r.length);
      lastRow[b] = b * T + r.length - 1;
    });
    const probs = tf.tidy(() => {
      const idsT = tf.tensor2d(ids, [B, T], 'int32');
      const mask = model.config.causal ? undefined : tf.tensor2d(attention, [B, T]);
      const h = tf.reshape(model.hidden(idsT, { attentionMask: mask }), [B * T, model.config.dModel]);
      const last = tf.gather(h, tf.tensor1d(lastRow, 'int32')) as tf.Tensor2D;
      return tf.softmax(model.headFor(last, labelTokenIds));
    });
    const flat = probs.dataSync();
    probs.dispose();
    for (let b = 0; b < B; b++) out.push(Array.from(flat.subarray(b * labelTokenIds.length, (b + 1) * labelTokenIds.length)));
  }
  return out;
}
