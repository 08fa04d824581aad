import * as tf from '@tensorflow/tfjs-core';
// Registers TF.js's gradients into tfjs-core (its Node bundle has none), so the loss is
// differentiable even where no model op has been imported yet (see model/ops.ts).
import '@tensorflow/tfjs';

/**
 * The DPO loss (Rafailov et al. 2023, "Direct Preference Optimization", eq. 7), sigmoid variant,
 * laid out as TRL's DPOTrainer.dpo_loss reads: log-ratios first, then the logits, then the loss.
 *
 *   L = −E[ log σ( β·[ (log πθ(yc|x) − log πref(yc|x)) − (log πθ(yr|x) − log πref(yr|x)) ] ) ]
 *
 * Inputs are per-pair sequence log-probs (Σ log p over the completion tokens, see
 * train/step.ts sequenceLogProbs), aligned: row i of all four belongs to preference pair i.
 */

/** TRL's logged metric names, in the order `metrics` holds them. */
export const DPO_METRICS = [
  'rewards/chosen',
  'rewards/rejected',
  'rewards/accuracies',
  'rewards/margins',
  'logps/chosen',
  'logps/rejected',
] as const;
export type DpoMetricName = (typeof DPO_METRICS)[number];
export type DpoMetrics = Record<DpoMetricName, number>;

export interface DpoLossOutput {
  /** −mean log σ(β·logits): the scalar to differentiate */
  loss: tf.Scalar;
  /** the DPO_METRICS values, batch means, [6]; no gradient should flow from these */
  metrics: tf.Tensor1D;
}

export function dpoLoss(
  policyChosenLogps: tf.Tensor1D,
  policyRejectedLogps: tf.Tensor1D,
  refChosenLogps: tf.Tensor1D,
  refRejectedLogps: tf.Tensor1D,
  beta: number,
): DpoLossOutput {
  return tf.tidy(() => {
    // How much more the policy prefers chosen over rejected than the reference does.
    const piLogratios = tf.sub(policyChosenLogps, policyRejectedLogps);
    const refLogratios = tf.sub(refChosenLogps, refRejectedLogps);
    const logits = tf.sub(piLogratios, refLogratios);
    // Eq. 7: −log σ(β·logits), written as softplus(−β·logits): the same function, stable at
    // large margins, and with a kernel gradient (tf.logSigmoid's gradient closes over its input,
    // which this tidy frees before backprop runs).
    const losses = tf.softplus(tf.neg(tf.mul(logits, beta)));
    const loss = tf.mean(losses) as tf.Scalar;

    // Implicit rewards r = β·(log π − log π_ref) (the paper's §5); logged, not trained on.
    const chosenRewards = tf.mul(tf.sub(policyChosenLogps, refChosenLogps), beta);
    const rejectedRewards = tf.mul(tf.sub(policyRejectedLogps, refRejectedLogps), beta);
    const metrics = tf.stack([
      tf.mean(chosenRewards),
      tf.mean(rejectedRewards),
      tf.mean(tf.cast(tf.greater(chosenRewards, rejectedRewards), 'float32')),
      tf.mean(tf.sub(chosenRewards, rejectedRewards)),
      tf.mean(policyChosenLogps),
      tf.mean(policyRejectedLogps),
    ]) as tf.Tensor1D;
    return { loss, metrics };
  });
}

/** Names the values of a `metrics` tensor (after one dataSync). */
export function namedMetrics(values: ArrayLike<number>): DpoMetrics {
  if (values.length !== DPO_METRICS.length) throw new Error(`namedMetrics: ${values.length} values, expected ${DPO_METRICS.length}`);
  const out = {} as DpoMetrics;
  DPO_METRICS.forEach((name, i) => (out[name] = values[i]));
  return out;
}
