import { z } from 'zod';

/** The figures aggregated, as MetricsRecord fields (fractions). */
export const STUDY_FIGURES = ['macro_f1', 'weighted_f1', 'accuracy', 'optimistic_rate', 'optimistic_error_share', 'unparseable_rate'] as const;
export type StudyFigure = (typeof STUDY_FIGURES)[number];

export const Stat = z
  .object({
    mean: z.number(),
    /** sample standard deviation (n − 1); 0 for one seed */
    std: z.number().nonnegative(),
    /** one value per seed, in `seeds` order */
    values: z.array(z.number()),
  })
  .strict();
export type Stat = z.infer<typeof Stat>;

/** One split of a study: variant → figure → stat. */
export const StudyTable = z.record(z.string(), z.record(z.string(), Stat));
export type StudyTable = z.infer<typeof StudyTable>;

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, values: [...values] };
}
