import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { macroF1FromCounts } from './metrics.ts';

/**
 * The decision rule that turns a model's grade probabilities into one grade. Argmax serves
 * accuracy, but the paper's headline metric is macro-F1, and on imbalanced data argmax leaves a
 * rare grade unpredicted (Home Depot's "Low", 7% of pairs: F1 0). The lexical baseline already
 * picks its thresholds for macro-F1; this gives the neural variants the same footing: one additive
 * offset per grade on the log-probabilities, grade = argmax(log p + offset), the offsets chosen on
 * held-out (valid) pairs to maximise macro-F1 (Lipton et al. 2014, "Thresholding classifiers to
 * maximize F1"). The first grade's offset stays 0 (only differences matter).
 */
export const GradeDecision = z
  .object({
    version: z.literal(1),
    /** one per label, scheme order; added to log-probabilities */
    offsets: z.array(z.number()),
    /** where the offsets were chosen and the macro-F1 they reached there */
    fitted_on: z.string(),
    n: z.number().int().nonnegative(),
    macro_f1: z.number(),
  })
  .strict();
export type GradeDecision = z.infer<typeof GradeDecision>;

/** A decision read from `file` must have one offset per label of the model's scheme. */
export function checkDecision(decision: GradeDecision, labels: readonly string[], file: string): void {
  if (decision.offsets.length !== labels.length) {
    throw new UserError(`${file}: decision.offsets: ${decision.offsets.length} offsets for ${labels.length} labels (${labels.join(', ')})`);
  }
}

/** Offsets are searched on this grid, one grade at a time, in rounds until nothing moves. */
const GRID = Array.from({ length: 81 }, (_, i) => -4 + i / 10);
const MAX_ROUNDS = 10;
const FLOOR = 1e-12;

/** Grade index of one probability row under `offsets` (undefined: argmax). Ties go to the better grade. */
export function decideGrade(probs: readonly number[], offsets?: readonly number[]): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < probs.length; c++) {
    const s = Math.log(Math.max(probs[c], FLOOR)) + (offsets?.[c] ?? 0);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

function macroF1Of(logp: readonly (readonly number[])[], gold: readonly number[], offsets: readonly number[], k: number): number {
  const tp = new Array<number>(k).fill(0);
  const goldCount = new Array<number>(k).fill(0);
  const predCount = new Array<number>(k).fill(0);
  for (let i = 0; i < logp.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logp[i][c] + offsets[c] > logp[i][best] + offsets[best]) best = c;
    goldCount[gold[i]]++;
    predCount[best]++;
    if (best === gold[i]) tp[best]++;
  }
  return macroF1FromCounts(tp, goldCount, predCount);
}

/**
 * Coordinate ascent from all-zero offsets (argmax): each grade's offset in turn moves to the grid
 * value with the highest macro-F1, only on a strict gain and the smallest |offset| first, so the
 * result is deterministic and stays at argmax when nothing beats it.
 */
export function fitGradeOffsets(probs: readonly (readonly number[])[], gold: readonly number[], k: number): { offsets: number[]; macroF1: number } {
  if (probs.length !== gold.length) throw new UserError(`decision rule: ${probs.length} probability rows but ${gold.length} gold grades`);
  const offsets = new Array<number>(k).fill(0);
  if (probs.length === 0) return { offsets, macroF1: 0 };
  const logp = probs.map((row) => row.map((p) => Math.log(Math.max(p, FLOOR))));
  const byMagnitude = [...GRID].sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
  let current = macroF1Of(logp, gold, offsets, k);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let moved = false;
    for (let c = 1; c < k; c++) {
      const was = offsets[c];
      let bestValue = was;
      for (const v of byMagnitude) {
        offsets[c] = v;
        const f1 = macroF1Of(logp, gold, offsets, k);
        if (f1 > current + 1e-12) {
          current = f1;
          bestValue = v;
        }
      }
      offsets[c] = bestValue;
      if (bestValue !== was) moved = true;
    }
    if (!moved) break;
  }
  return { offsets, macroF1: current };
}

/**
 * Grades for the pairs the rule is fitted on, each decided by offsets fitted on the *other* half
 * (pairs alternate between two halves), so figures reported on these pairs are not scored on the
 * pairs that chose their decision rule.
 */
export function crossFittedGrades(probs: readonly (readonly number[])[], gold: readonly number[], k: number): number[] {
  const halves = [0, 1].map((h) => probs.map((_, i) => i).filter((i) => i % 2 === h));
  const out = new Array<number>(probs.length);
  for (const [fit, apply] of [[halves[0], halves[1]], [halves[1], halves[0]]]) {
    const { offsets } = fitGradeOffsets(fit.map((i) => probs[i]), fit.map((i) => gold[i]), k);
    for (const i of apply) out[i] = decideGrade(probs[i], offsets);
  }
  return out;
}

/** The rule for a model, fitted on its valid pairs, and those pairs' grades decided out of fold (crossFittedGrades). */
export function fitDecisionOnValid(probs: readonly (readonly number[])[], gold: readonly number[], k: number): { decision: GradeDecision; validGrades: number[] } {
  const { offsets, macroF1 } = fitGradeOffsets(probs, gold, k);
  return {
    decision: { version: 1, offsets, fitted_on: 'valid', n: probs.length, macro_f1: macroF1 },
    validGrades: crossFittedGrades(probs, gold, k),
  };
}

export const DECISION_MODES = ['valid-macro-f1', 'argmax'] as const;
export type DecisionMode = (typeof DECISION_MODES)[number];

/**
 * What early stopping ranks checkpoints by: the macro-F1 of the grades the run will report — by
 * the rule fitted on these pairs at this check ("valid-macro-f1"; in sample, as it only ranks
 * checkpoints of one model) or by argmax. Argmax macro-F1 swings with whether a rare grade happens
 * to win anywhere, which the fitted rule then decides anyway.
 */
export function decidedMacroF1(probs: readonly (readonly number[])[], gold: readonly number[], k: number, mode: DecisionMode): number {
  if (mode === 'argmax') return macroF1Of(probs.map((r) => r.map((p) => Math.log(Math.max(p, FLOOR)))), gold, new Array<number>(k).fill(0), k);
  return fitGradeOffsets(probs, gold, k).macroF1;
}

/**
 * A scored variant's grades on valid and test from its probability rows (scheme order). With
 * "valid-macro-f1" and valid pairs, the rule is fitted on valid and returned with valid's
 * out-of-fold grades; otherwise both splits are argmax. `argmaxValidMacroF1` is for the log.
 */
export function decideSplits(
  k: number,
  valid: { probs: readonly (readonly number[])[]; gold: readonly number[] },
  testProbs: readonly (readonly number[])[],
  mode: DecisionMode,
): { decision?: GradeDecision; validGrades: number[]; testGrades: number[]; argmaxValidMacroF1: number } {
  const argmax = (rows: readonly (readonly number[])[]) => rows.map((r) => decideGrade(r));
  const argmaxValid = argmax(valid.probs);
  const argmaxValidMacroF1 = valid.gold.length ? decidedMacroF1(valid.probs, valid.gold, k, 'argmax') : 0;
  if (mode === 'argmax' || valid.gold.length === 0) return { validGrades: argmaxValid, testGrades: argmax(testProbs), argmaxValidMacroF1 };
  const { decision, validGrades } = fitDecisionOnValid(valid.probs, valid.gold, k);
  return { decision, validGrades, testGrades: testProbs.map((r) => decideGrade(r, decision.offsets)), argmaxValidMacroF1 };
}
