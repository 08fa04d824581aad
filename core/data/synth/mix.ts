import { z } from 'zod';
import { LREF5_LABELS, type Lref5Label } from './types.ts';

/**
 * The label mix the generator aims for. Default: a realistic skew (Exact 15%, Significant 30%,
 * Marginal 25%, Trivial 20%, Irrelevant 10%) — close to LREF's reported test mix in spirit (many
 * Significant and Trivial, few Irrelevant) but with enough of every grade to learn from.
 */
export const LabelMix = z
  .object({
    Exact: z.number().min(0),
    Significant: z.number().min(0),
    Marginal: z.number().min(0),
    Trivial: z.number().min(0),
    Irrelevant: z.number().min(0),
  })
  .strict()
  .refine((m) => Object.values(m).some((v) => v > 0), { message: 'label mix needs at least one positive weight' });
export type LabelMix = z.infer<typeof LabelMix>;

export const DEFAULT_LABEL_MIX: LabelMix = { Exact: 0.15, Significant: 0.3, Marginal: 0.25, Trivial: 0.2, Irrelevant: 0.1 };

/**
 * Per-grade sampling weights that hit the target mix although not every query can take every grade
 * (a query with no secondary modifier has no Significant products). Iterative proportional fitting
 * on expected counts: each query draws grade g with probability w_g / Σ_{h feasible for it} w_h;
 * scale each w_g by target/expected until the expected mix matches (or stops improving).
 */
export function fitGradeWeights(queries: { pairs: number; feasible: readonly Lref5Label[] }[], target: LabelMix, rounds = 50): Record<Lref5Label, number> {
  // Queries with the same feasible set behave alike: fit on those groups (a few dozen at most).
  const groups = new Map<string, { pairs: number; feasible: readonly Lref5Label[] }>();
  for (const q of queries) {
    const key = q.feasible.join(',');
    const g = groups.get(key);
    if (g) g.pairs += q.pairs;
    else groups.set(key, { pairs: q.pairs, feasible: q.feasible });
  }
  queries = [...groups.values()];
  const total = queries.reduce((a, q) => a + q.pairs, 0);
  const sum = LREF5_LABELS.reduce((a, g) => a + target[g], 0);
  const w = Object.fromEntries(LREF5_LABELS.map((g) => [g, Math.max(target[g], 1e-9)])) as Record<Lref5Label, number>;
  for (let r = 0; r < rounds; r++) {
    const expected = Object.fromEntries(LREF5_LABELS.map((g) => [g, 0])) as Record<Lref5Label, number>;
    for (const q of queries) {
      const z = q.feasible.reduce((a, g) => a + w[g], 0);
      for (const g of q.feasible) expected[g] += (q.pairs * w[g]) / z;
    }
    for (const g of LREF5_LABELS) {
      const want = (target[g] / sum) * total;
      if (expected[g] > 0) w[g] = Math.min(1e6, Math.max(1e-9, w[g] * (want / expected[g])));
    }
  }
  return w;
}
