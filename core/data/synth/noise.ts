import type { Rng } from '../../util/rng.ts';
import { LREF5_LABELS, type Lref5Label } from './types.ts';

/**
 * Rater noise: with probability `rate` a pair's label is replaced by a neighbouring grade, the kind
 * of slip a human rater makes (nobody calls a blender Exact for "running shoes"). The weights say
 * which neighbour: a rater who misses a violated primary modifier calls Marginal Significant; one
 * who takes an accessory for the product calls Trivial Marginal (the optimistic errors LREF's DPO
 * stage targets), and these are made more likely than the pessimistic slips.
 */
export type Confusions = Record<Lref5Label, Partial<Record<Lref5Label, number>>>;

export const DEFAULT_CONFUSIONS: Confusions = {
  Exact: { Significant: 1 },
  Significant: { Exact: 0.4, Marginal: 0.6 },
  Marginal: { Significant: 0.65, Trivial: 0.35 },
  Trivial: { Marginal: 0.6, Irrelevant: 0.4 },
  Irrelevant: { Trivial: 1 },
};

/** Checks that every confusion goes to a neighbouring grade with a positive total weight. */
export function validateConfusions(c: Confusions): void {
  for (const from of LREF5_LABELS) {
    const row = c[from];
    const entries = Object.entries(row ?? {}) as [Lref5Label, number][];
    if (entries.reduce((a, [, w]) => a + w, 0) <= 0) throw new Error(`noise: no confusion weights for ${from}`);
    for (const [to, w] of entries) {
      const d = Math.abs(LREF5_LABELS.indexOf(to) - LREF5_LABELS.indexOf(from));
      if (d !== 1 || w < 0) throw new Error(`noise: ${from} → ${to} is not a neighbouring grade with a non-negative weight`);
    }
  }
}

/** Returns noisy labels (same length); `clean` is left untouched. */
export function applyNoise(clean: readonly Lref5Label[], rate: number, rng: Rng, confusions: Confusions = DEFAULT_CONFUSIONS): Lref5Label[] {
  if (rate < 0 || rate > 1) throw new Error(`noise rate must be in [0, 1], got ${rate}`);
  validateConfusions(confusions);
  return clean.map((label) => {
    if (!rng.chance(rate)) return label;
    const row = Object.entries(confusions[label]) as [Lref5Label, number][];
    return rng.weighted(
      row.map(([to]) => to),
      row.map(([, w]) => w),
    );
  });
}
