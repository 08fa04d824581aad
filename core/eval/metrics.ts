import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { labelIndex, type LabelScheme } from '../data/labels.ts';

/**
 * Classification metrics as LREF reports them (macro-F1, weighted-F1, accuracy), plus the
 * optimistic-bias figures stage 3 (DPO) is aimed at. All values are fractions in [0, 1];
 * format.ts prints them as percentages like the paper's tables.
 *
 * Averaging choice (scikit-learn's default for f1_score with labels=None): macro-F1 is the mean
 * F1 over the labels present in gold ∪ predicted. A label of the scheme that neither side uses
 * is left out (it would add a meaningless 0); a label only predicted counts with F1 0, and a
 * label never predicted gets precision 0 (sklearn's zero_division=0). weighted-F1 weights each
 * label's F1 by its gold support, so labels absent from gold weigh nothing.
 *
 * Unparseable predictions (null) count against a variant, never for it. As scikit-learn does with a
 * sentinel label, they are a class of their own in macro-F1: predicted but never gold, so it adds an
 * F1 term of 0 (and weighs nothing in weighted-F1); they lower accuracy and the gold label's recall.
 * The optimistic/pessimistic figures are computed over the *parseable* predictions and errors, with
 * `unparseable_rate` reported beside them: otherwise a variant that breaks the output format would
 * dilute its optimistic share and look de-biased.
 */

export const PerClass = z
  .object({
    precision: z.number().min(0).max(1),
    recall: z.number().min(0).max(1),
    f1: z.number().min(0).max(1),
    /** number of gold items with this label */
    support: z.number().int().nonnegative(),
  })
  .strict();
export type PerClass = z.infer<typeof PerClass>;

const Fraction = z.number().min(0).max(1);

export const MetricsRecord = z
  .object({
    /** the variant evaluated, e.g. "sft-all", "lref" */
    name: z.string().min(1),
    /** label scheme id */
    scheme: z.string().optional(),
    macro_f1: Fraction,
    weighted_f1: Fraction,
    accuracy: Fraction,
    /** (#pred more relevant than gold) / (#parseable predictions); 0 when none parse */
    optimistic_rate: Fraction,
    /** (#optimistic) / (#parseable errors); 0 when there are none */
    optimistic_error_share: Fraction,
    /** (#pred less relevant than gold) / (#parseable predictions) */
    pessimistic_rate: Fraction,
    /** (#pessimistic) / (#parseable errors); 0 when there are none */
    pessimistic_error_share: Fraction,
    /** keyed by label, in scheme order; every label of the scheme appears */
    per_class: z.record(z.string(), PerClass),
    /** confusion[gold][pred] in `labels` order; unparseable predictions are not in it */
    confusion: z.array(z.array(z.number().int().nonnegative())),
    n: z.number().int().positive(),
    /** the scheme's labels, best → worst: the order of `confusion` rows and columns */
    labels: z.array(z.string()),
    /** predictions that gave no label (counted as errors, and as a class of their own in macro-F1) */
    unparseable: z.number().int().nonnegative(),
    /** unparseable / n: shown beside the optimistic figures, which leave these out (optional: older runs lack it) */
    unparseable_rate: Fraction.optional(),
  })
  .strict();
export type MetricsRecord = z.infer<typeof MetricsRecord>;

/** `pred[i] === null` marks an unparseable prediction. */
export function computeMetrics(
  name: string,
  gold: readonly string[],
  pred: readonly (string | null)[],
  scheme: LabelScheme,
): MetricsRecord {
  if (gold.length !== pred.length) {
    throw new UserError(`metrics for ${name}: ${gold.length} gold labels but ${pred.length} predictions`);
  }
  const n = gold.length;
  if (n === 0) throw new UserError(`metrics for ${name}: no predictions to score`);
  const k = scheme.labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let optimistic = 0;
  let pessimistic = 0;
  let unparseable = 0;
  const support = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const g = labelIndex(scheme, gold[i]);
    support[g]++;
    const p = pred[i];
    if (p === null) {
      unparseable++;
      continue;
    }
    const q = labelIndex(scheme, p);
    confusion[g][q]++;
    // Lower index = more relevant (labels are best → worst).
    if (q === g) correct++;
    else if (q < g) optimistic++;
    else pessimistic++;
  }

  const per_class: Record<string, PerClass> = {};
  const present: number[] = [];
  let weighted = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let predicted = 0;
    for (let g = 0; g < k; g++) predicted += confusion[g][c];
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support[c] > 0 ? tp / support[c] : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    per_class[scheme.labels[c]] = { precision, recall, f1, support: support[c] };
    if (support[c] > 0 || predicted > 0) present.push(f1);
    weighted += f1 * support[c];
  }
  // The sentinel class "unparseable": predicted, never gold → precision 0, recall 0, F1 0.
  if (unparseable > 0) present.push(0);
  const parsed = n - unparseable;
  const errors = optimistic + pessimistic; // parseable errors only
  return {
    name,
    scheme: scheme.id,
    macro_f1: present.reduce((a, b) => a + b, 0) / present.length,
    weighted_f1: weighted / n,
    accuracy: correct / n,
    optimistic_rate: parsed > 0 ? optimistic / parsed : 0,
    optimistic_error_share: errors > 0 ? optimistic / errors : 0,
    pessimistic_rate: parsed > 0 ? pessimistic / parsed : 0,
    pessimistic_error_share: errors > 0 ? pessimistic / errors : 0,
    per_class,
    confusion,
    n,
    labels: [...scheme.labels],
    unparseable,
    unparseable_rate: unparseable / n,
  };
}

/**
 * Macro-F1 from per-class counts, averaged over the classes that occur in gold or prediction (as
 * scikit-learn does by default). F1_c = 2·TP / (gold_c + pred_c).
 */
export function macroF1FromCounts(tp: readonly number[], goldCount: readonly number[], predCount: readonly number[]): number {
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < tp.length; c++) {
    const denom = goldCount[c] + predCount[c];
    if (denom === 0) continue;
    sum += (2 * tp[c]) / denom;
    classes++;
  }
  return classes ? sum / classes : 0;
}
