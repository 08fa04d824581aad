import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { snapshotParams, type CausalLM } from '../model/lm.ts';
import type { AdamW } from '../train/adamw.ts';
import { makeBatch, type LMExample, type TokenBatch } from '../train/batch.ts';
import { batchIndices, makeOptimizer } from '../train/loop.ts';
import { lrAt } from '../train/schedule.ts';
import { optimizeStep, sequenceLogProbs } from '../train/step.ts';
import { UserError } from '../util/errors.ts';
import { trainConfigFor, type StageContext } from './context.ts';
import { dpoLoss, namedMetrics, type DpoMetrics } from './dpo-loss.ts';
import type { PreferencePair } from './dpo-mine.ts';
import type { RelevanceModel } from './relevance-model.ts';

/**
 * LREF stage 3, part 2: DPO against the frozen stage-2 model (LREF §Stage 3; Rafailov et al. 2023).
 * The reference's log-probs are computed once for every pair before training (TRL's
 * precompute_ref_log_probs), so the reference is never run again; the input model *is* that
 * reference and is never written to. The policy is a copy of it that trains.
 *
 * Mining is in dpo-mine.ts, the loss in dpo-loss.ts; this file is the loop.
 */

export { dpoLoss, namedMetrics, DPO_METRICS, type DpoMetrics, type DpoMetricName } from './dpo-loss.ts';
export {
  minePreferences,
  pickPreference,
  rankLabelsByScore,
  rankByBeamSearch,
  toTrlPreference,
  trlJsonl,
  writeTrlJsonl,
  MineConfig,
  PreferencePair,
  type MineConfigInput,
  type Candidate,
  type TrlPreference,
} from './dpo-mine.ts';

export const DpoConfig = z
  .object({
    version: z.literal(1).default(1),
    /**
     * 0.1: the value of Rafailov et al.'s main experiments and TRL's default; LREF does not report
     * its β and the 0.65 we have seen comes from one unverified note. β scales the implicit reward
     * β·log(π/π_ref): the per-pair weight σ(−β·Δ) stays near ½ until the log-ratio margin Δ is
     * about 1/β nats. Our label-only completions are one token, whose margins are a few nats, so
     * 0.1 keeps pushing for the whole of the short run, which is what moving a rank-2 grade to
     * rank 1 takes. If the model overshoots into pessimism (watch the bias metrics), raise β
     * towards 0.5: the loss then saturates sooner and the policy stays nearer the reference.
     */
    beta: z.number().positive().default(0.1),
    /** 2: "about 2 epochs" (LREF). Each epoch is a seeded shuffle; the ragged tail is dropped. */
    epochs: z.number().positive().default(2),
    /** Preference pairs per step; the forward pass sees twice as many rows ([chosen…, rejected…]). */
    batchSize: z.number().int().min(1).default(8),
    /**
     * Peak rate; default a tenth of the run's SFT rate (ctx.trainConfig.lr). DPO starts from a
     * trained model and only has to move a few decisions: the DPO paper uses 1e-6 against the
     * usual 1e-5–2e-5 of SFT, and TRL's defaults differ by the same order of magnitude.
     */
    lr: z.number().positive().optional(),
    /** 0.1: a tenth of the steps warm up, so the first Adam moments do not kick the policy away. */
    warmupRatio: z.number().min(0).max(1).default(0.1),
    /** 0: weight decay pulls weights towards 0, not towards the reference DPO keeps us near (TRL: 0). */
    weightDecay: z.number().min(0).default(0),
    /** Pairs per forward pass when precomputing reference log-probs (no gradients: can be large). */
    referenceBatchSize: z.number().int().min(1).default(32),
    /**
     * Weight of an NLL term on the chosen completion, per token (RPO, Pang et al. 2024, eq. 3;
     * TRL's `rpo_alpha`). Plain DPO only widens the chosen−rejected margin and may lower both; on
     * our tiny models with mostly teacher-written chosen completions that broke the answer format
     * (half the +dpo outputs unparseable on one seed). 0 = plain DPO (TRL's default).
     */
    rpoAlpha: z.number().min(0).default(0),
    /**
     * Checkpoint choice on held-out pairs (the pipeline's valid split): every `every` steps, and
     * before the first, the policy is scored; the weights kept are those with the lowest
     * optimistic-error share whose accuracy is at most `maxAccuracyDrop` below the start's. A
     * longer DPO run de-biases more but costs accuracy; this stops where the trade stops paying.
     */
    validate: z
      .object({ every: z.number().int().min(1), maxAccuracyDrop: z.number().min(0).max(1).default(0.01) })
      .strict()
      .optional(),
  })
  .strict();
export type DpoConfig = z.infer<typeof DpoConfig>;
export type DpoConfigInput = z.input<typeof DpoConfig>;

/** One line per step, with TRL's metric names. */
export const DpoStepLog = z.object({
  step: z.number().int().min(0),
  epoch: z.number().min(0),
  learning_rate: z.number(),
  loss: z.number(),
  grad_norm: z.number(),
  'rewards/chosen': z.number(),
  'rewards/rejected': z.number(),
  'rewards/accuracies': z.number(),
  'rewards/margins': z.number(),
  'logps/chosen': z.number(),
  'logps/rejected': z.number(),
});
export type DpoStepLog = z.infer<typeof DpoStepLog>;

/** Reference log π_ref(y|x), one value per preference pair. */
export interface ReferenceLogps {
  chosen: Float32Array;
  rejected: Float32Array;
}

/** The batch layout of TRL's concatenated_forward: rows [chosen_0…chosen_n, rejected_0…rejected_n]. */
export function preferenceBatch(prefs: readonly PreferencePair[], contextLength: number, padId: number): TokenBatch {
  const rows: LMExample[] = [
    ...prefs.map((p) => ({ prompt: p.prompt, completion: p.chosen })),
    ...prefs.map((p) => ({ prompt: p.prompt, completion: p.rejected })),
  ];
  return makeBatch(rows, { contextLength, padTo: 'longest', padId });
}

/** Σ log p(completion) of chosen and rejected under `model`, in batches, no gradients. */
export function sequenceLogpsOf(model: CausalLM, prefs: readonly PreferencePair[], padId: number, batchSize: number): ReferenceLogps {
  const n = prefs.length;
  const out: ReferenceLogps = { chosen: new Float32Array(n), rejected: new Float32Array(n) };
  for (let i = 0; i < n; i += batchSize) {
    const part = prefs.slice(i, i + batchSize);
    const logps = sequenceLogProbs(model, preferenceBatch(part, model.config.contextLength, padId));
    const values = logps.dataSync();
    logps.dispose();
    out.chosen.set(values.subarray(0, part.length), i);
    out.rejected.set(values.subarray(part.length), i);
  }
  return out;
}

/** One valid check of the policy during DPO (step 0: the reference, before any update). */
export interface DpoValidPoint {
  step: number;
  accuracy: number;
  optimisticShare: number;
}

/** Scores the policy on held-out pairs for DpoConfig.validate. */
export type DpoValidCheck<M> = (policy: M) => Omit<DpoValidPoint, 'step'>;

/**
 * The point DpoConfig.validate keeps: the lowest optimistic-error share among points whose accuracy
 * is within `maxAccuracyDrop` of the start's (ties: the earlier step, nearer the reference).
 */
export function pickDpoPoint(curve: readonly DpoValidPoint[], maxAccuracyDrop: number): DpoValidPoint {
  if (curve.length === 0) throw new Error('pickDpoPoint: no valid checks');
  const floor = curve[0].accuracy - maxAccuracyDrop - 1e-12;
  let best = curve[0];
  for (const p of curve) if (p.accuracy >= floor && p.optimisticShare < best.optimisticShare) best = p;
  return best;
}

export interface DpoStepResult {
  loss: number;
  gradNorm: number;
  metrics: DpoMetrics;
}

/**
 * One DPO step on `prefs` (one batch): policy log-probs from one forward pass over
 * [chosen…, rejected…], the loss of eq. 7 against the precomputed reference values, then the
 * shared explicit step (tf.variableGrads → clip by global norm → AdamW → free the gradients).
 * Dropout stays off, as TRL's disable_dropout does: with it on, policy and reference would
 * differ at step 0 by noise alone and the implicit rewards would be noise too.
 */
export function dpoStep(
  policy: CausalLM,
  optimizer: AdamW,
  prefs: readonly PreferencePair[],
  ref: ReferenceLogps,
  opts: { beta: number; lr: number; clipNorm: number; padId: number; rpoAlpha?: number },
): DpoStepResult {
  const n = prefs.length;
  if (ref.chosen.length !== n || ref.rejected.length !== n) throw new Error('dpoStep: reference log-probs do not match the batch');
  const batch = preferenceBatch(prefs, policy.config.contextLength, opts.padId);
  const alpha = opts.rpoAlpha ?? 0;
  let metrics: tf.Tensor1D | undefined;
  const { loss, gradNorm } = optimizeStep(
    policy,
    optimizer,
    () => {
      const logps = sequenceLogProbs(policy, batch);
      const [policyChosen, policyRejected] = tf.split(logps, 2) as [tf.Tensor1D, tf.Tensor1D];
      const out = dpoLoss(policyChosen, policyRejected, tf.tensor1d(ref.chosen), tf.tensor1d(ref.rejected), opts.beta);
      metrics = tf.keep(out.metrics); // survives the gradient tidy; freed below
      if (alpha === 0) return out.loss;
      // RPO: + α · mean over pairs of the chosen completion's per-token NLL.
      const nll = tf.mean(tf.div(tf.neg(policyChosen), tf.tensor1d(chosenTokenCounts(batch, n))));
      return tf.add(out.loss, tf.mul(alpha, nll)) as tf.Scalar;
    },
    { lr: opts.lr, clipNorm: opts.clipNorm },
  );
  const values = metrics!.dataSync();
  metrics!.dispose();
  return { loss, gradNorm, metrics: namedMetrics(values) };
}

/** Completion tokens of each chosen row (the first n rows of a preference batch). */
export function chosenTokenCounts(batch: TokenBatch, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let r = 0; r < n; r++) for (let j = 0; j < batch.seqLen; j++) counts[r] += batch.lossMask[r * batch.seqLen + j];
  return counts.map((c) => Math.max(c, 1));
}

/**
 * Trains a copy of `policy` with DPO on `prefs`; the caller's model is left as it was (it served as
 * the frozen reference). Returns the trained copy and one log line per step.
 */
export function runDpo(
  ctx: StageContext,
  policy: RelevanceModel,
  prefs: readonly PreferencePair[],
  cfgInput: DpoConfigInput = {},
  check?: DpoValidCheck<RelevanceModel>,
): { model: RelevanceModel; log: DpoStepLog[]; curve?: DpoValidPoint[]; bestStep?: number } {
  const r = dpoTrain(ctx, policy.model, policy.tokenizer.padId, prefs, cfgInput, check && ((m) => check({ ...policy, model: m })));
  return { ...r, model: { ...policy, model: r.model } };
}

/** runDpo on any causal LM (an imported model's adapters too, hf-cot.ts): `padId` pads its batches. */
export function dpoTrain<M extends Omit<CausalLM, 'clone'> & { clone(): M }>(
  ctx: Pick<StageContext, 'trainConfig' | 'seed' | 'log' | 'progress' | 'signal'>,
  policy: M,
  padId: number,
  prefs: readonly PreferencePair[],
  cfgInput: DpoConfigInput = {},
  check?: DpoValidCheck<M>,
): { model: M; log: DpoStepLog[]; curve?: DpoValidPoint[]; bestStep?: number } {
  const cfg = DpoConfig.parse(cfgInput);
  if (cfg.validate && !check) throw new UserError('DPO: validate is set but no held-out pairs were given to score the policy on');
  if (prefs.length === 0) throw new UserError('DPO: no preference pairs (the policy got every mined pair right, or mining dropped them all)');
  const base = trainConfigFor(ctx, { weightDecay: cfg.weightDecay }, 3);
  const lr = cfg.lr ?? base.lr / 10;
  const perEpoch = Math.max(1, Math.floor(prefs.length / cfg.batchSize));
  const steps = Math.max(1, Math.round(cfg.epochs * perEpoch));
  const schedule = { lr, warmup: Math.round(cfg.warmupRatio * steps), steps, minLrRatio: base.minLrRatio };

  // Reference first: the input model, read once, before any copy trains.
  const ref = sequenceLogpsOf(policy, prefs, padId, cfg.referenceBatchSize);
  const model = policy.clone();
  const optimizer = makeOptimizer(model, base);
  ctx.log?.(`dpo: ${prefs.length} pairs, ${steps} steps (${cfg.epochs} epochs of ${perEpoch}), β ${cfg.beta}, lr ${lr}`);

  const log: DpoStepLog[] = [];
  const validate = cfg.validate && check ? { ...cfg.validate, check } : undefined;
  const curve: DpoValidPoint[] = [];
  let best: { point: DpoValidPoint; weights: Map<string, Float32Array> } | undefined;
  const validAt = (v: NonNullable<typeof validate>, step: number) => {
    const point = { step, ...v.check(model) };
    curve.push(point);
    if (pickDpoPoint(curve, v.maxAccuracyDrop) === point) best = { point, weights: snapshotParams(model) };
    ctx.log?.(`dpo: valid at step ${step}: accuracy ${(100 * point.accuracy).toFixed(1)}%, optimistic share ${(100 * point.optimisticShare).toFixed(1)}%`);
  };
  try {
    if (validate) validAt(validate, 0);
    for (let step = 0; step < steps; step++) {
      if (ctx.signal?.aborted) {
        ctx.log?.(`dpo: interrupted after ${step} of ${steps} steps`);
        break;
      }
      const idx = batchIndices(prefs.length, cfg.batchSize, base.seed, step);
      const batchRef: ReferenceLogps = { chosen: Float32Array.from(idx, (i) => ref.chosen[i]), rejected: Float32Array.from(idx, (i) => ref.rejected[i]) };
      const learningRate = lrAt(step, schedule);
      const r = dpoStep(model, optimizer, idx.map((i) => prefs[i]), batchRef, { beta: cfg.beta, lr: learningRate, clipNorm: base.clipNorm, padId, rpoAlpha: cfg.rpoAlpha });
      log.push({ step, epoch: (step + 1) / perEpoch, learning_rate: learningRate, loss: r.loss, grad_norm: r.gradNorm, ...r.metrics });
      ctx.progress?.('dpo', step + 1, steps, { loss: r.loss.toFixed(4), margin: r.metrics['rewards/margins'].toFixed(3) });
      if (validate && ((step + 1) % validate.every === 0 || step + 1 === steps)) validAt(validate, step + 1);
    }
    if (validate && best && best.point !== curve[curve.length - 1]) {
      model.assignParams(best.weights);
      ctx.log?.(`dpo: kept the weights of step ${best.point.step} (valid: lowest optimistic share within ${validate.maxAccuracyDrop * 100} points of the start's accuracy)`);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
  return { model, log, ...(best ? { curve, bestStep: best.point.step } : {}) };
}
