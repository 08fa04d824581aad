import { z } from 'zod';

/**
 * Early stopping on held-out pairs: every `every` steps the model is scored, the best weights are
 * kept, and training stops after `patience` checks without a gain. Lets a long schedule be set
 * without overfitting a small train split; the held-out pairs are the valid split, never test.
 */
export const EarlyStop = z.object({ every: z.number().int().min(1), patience: z.number().int().min(1).default(3) }).strict();
export type EarlyStop = z.infer<typeof EarlyStop>;

/** One early-stopping check: the step after which the model was scored, and its score. */
export interface ValidPoint {
  step: number;
  score: number;
}

export interface CheckedTraining {
  /** the first step to train (a resumed run starts later) */
  from: number;
  total: number;
  schedule: EarlyStop;
  /** trains steps [from, to) */
  train: (from: number, to: number) => void;
  /** the current weights' held-out score, higher is better */
  score: () => number;
  snapshot: () => Map<string, Float32Array>;
  restore: (weights: Map<string, Float32Array>) => void;
}

/** Trains in segments of `every` steps with a check after each; leaves the best-scoring weights in place. */
export function trainWithEarlyStopping(t: CheckedTraining): { curve: ValidPoint[]; bestStep?: number } {
  const curve: ValidPoint[] = [];
  let best: { step: number; score: number; weights: Map<string, Float32Array> } | undefined;
  let since = 0;
  for (let at = t.from; at < t.total; ) {
    const stop = Math.min(at + t.schedule.every, t.total);
    t.train(at, stop);
    at = stop;
    const score = t.score();
    curve.push({ step: at, score });
    if (!best || score > best.score) {
      best = { step: at, score, weights: t.snapshot() };
      since = 0;
    } else if (++since >= t.schedule.patience) break;
  }
  if (best && best.step !== curve[curve.length - 1].step) t.restore(best.weights);
  return { curve, bestStep: best?.step };
}

/** The log line naming a run's checks and the step it kept. */
export function earlyStopLine(variant: string, criterion: string, curve: readonly ValidPoint[], bestStep: number | undefined): string {
  return `${variant}: early stopping on valid ${criterion} — ${curve.map((c) => `${c.step}: ${(100 * c.score).toFixed(1)}`).join(', ')}; kept step ${bestStep}`;
}
