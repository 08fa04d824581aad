import { z } from 'zod';
import { alignTable } from '../eval/format.ts';
import { SCORED_SUFFIX } from './pipeline.ts';
import { stat, Stat, STUDY_FIGURES, type StudyFigure, type StudyTable as Table } from './study-stat.ts';

/**
 * The comparisons LREF's claims rest on, each as a paired difference per seed: two variants of one
 * seed share its split, data and base, so the seed-to-seed spread they share cancels, and "wins 3/3"
 * says more than two overlapping mean ± std. Each effect is computed on test (reported) and valid.
 */

export const BASELINES = ['lexical', 'cross_encoder'] as const;

/** The goal issue 11 set DPO, after LREF: the optimistic share down ≥ 30% relative, accuracy within 1 point, unparseable ≤ 1%. */
export const DPO_GOAL = { shareCut: 0.3, maxAccuracyDrop: 0.01, maxUnparseable: 0.01 } as const;

export const Effect = z
  .object({
    /** e.g. "best (sft_all) − lexical" */
    name: z.string(),
    a: z.string(),
    b: z.string(),
    figure: z.enum(STUDY_FIGURES),
    /** (a − b) / b per seed instead of a − b */
    relative: z.boolean(),
    /** which direction of the difference favours a */
    better: z.enum(['higher', 'lower']),
    test: Stat,
    valid: Stat.optional(),
    /** test seeds on which a is better than b */
    wins: z.number().int().nonnegative(),
    /** a compound goal checked per test seed, where the effect has one */
    goal: z.object({ text: z.string(), met: z.number().int().nonnegative() }).strict().optional(),
  })
  .strict();
export type Effect = z.infer<typeof Effect>;

interface Spec {
  name: string;
  a: string;
  b: string;
  figure: StudyFigure;
  relative?: boolean;
  better?: 'higher' | 'lower';
}

function paired(table: Table, s: Spec): Stat {
  const a = table[s.a][s.figure].values;
  const b = table[s.b][s.figure].values;
  // relative with b = 0 (nothing to cut): counted as no change rather than ±∞
  return stat(a.map((x, i) => (s.relative ? (b[i] === 0 ? 0 : (x - b[i]) / b[i]) : x - b[i])));
}

function effect(test: Table, valid: Table | undefined, s: Spec): Effect {
  const better = s.better ?? 'higher';
  const t = paired(test, s);
  return {
    name: s.name,
    a: s.a,
    b: s.b,
    figure: s.figure,
    relative: s.relative ?? false,
    better,
    test: t,
    ...(valid ? { valid: paired(valid, s) } : {}),
    wins: t.values.filter((d) => (better === 'higher' ? d > 0 : d < 0)).length,
  };
}

/**
 * The study's effects, for the variants it ran: the best LREF variant (chosen on valid macro-F1; no
 * valid split, no choice) against each baseline, selection against random, each CoT kind (generated
 * and scored) against the +label control, and DPO against the CoT model it started from.
 */
export function studyEffects(variants: readonly string[], test: Table, valid: Table | undefined, cotOrder: readonly string[]): Effect[] {
  const has = (v: string) => variants.includes(v);
  const specs: Spec[] = [];
  const learned = variants.filter((v) => !(BASELINES as readonly string[]).includes(v));
  if (valid && learned.length > 0) {
    const best = learned.reduce((x, y) => (valid[y].macro_f1.mean > valid[x].macro_f1.mean ? y : x));
    for (const b of BASELINES) if (has(b)) specs.push({ name: `best (${best}) − ${b}`, a: best, b, figure: 'macro_f1' });
  }
  if (has('sft_selected') && has('sft_random')) specs.push({ name: 'sft_selected − sft_random', a: 'sft_selected', b: 'sft_random', figure: 'macro_f1' });
  if (has('+label')) {
    for (const kind of cotOrder) {
      for (const v of [`+${kind}`, `+${kind}${SCORED_SUFFIX}`]) if (has(v)) specs.push({ name: `${v} − +label`, a: v, b: '+label', figure: 'macro_f1' });
    }
  }
  const start = cotOrder.length > 0 ? `+${cotOrder[cotOrder.length - 1]}` : undefined;
  const out = specs.map((s) => effect(test, valid, s));
  if (start && has(start) && has('+dpo')) {
    const share = effect(test, valid, { name: `+dpo vs ${start}, optimistic share (relative)`, a: '+dpo', b: start, figure: 'optimistic_error_share', relative: true, better: 'lower' });
    const acc = effect(test, valid, { name: `+dpo − ${start}, accuracy`, a: '+dpo', b: start, figure: 'accuracy' });
    const unparseable = test['+dpo'].unparseable_rate.values;
    const met = share.test.values.filter((d, i) => d <= -DPO_GOAL.shareCut && acc.test.values[i] >= -DPO_GOAL.maxAccuracyDrop && unparseable[i] <= DPO_GOAL.maxUnparseable).length;
    share.goal = { text: `share −${100 * DPO_GOAL.shareCut}% or more, accuracy at most ${100 * DPO_GOAL.maxAccuracyDrop} point below, unparseable ≤ ${100 * DPO_GOAL.maxUnparseable}%`, met };
    out.push(share, acc);
  }
  return out;
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const points = (s: Stat, relative: boolean) => `${signed(100 * s.mean, relative ? 1 : 2)}${relative ? '%' : ''} ± ${(100 * s.std).toFixed(relative ? 1 : 2)}`;

/** effect | Δ test | per seed (test) | wins | Δ valid | goal met: points (or percent for relative effects). */
export function formatEffects(effects: readonly Effect[]): string {
  const anyGoal = effects.some((e) => e.goal);
  const anyValid = effects.some((e) => e.valid);
  return alignTable(
    ['effect', 'Δ test', 'per seed (test)', 'wins', ...(anyValid ? ['Δ valid'] : []), ...(anyGoal ? ['goal met'] : [])],
    effects.map((e) => [
      e.name,
      points(e.test, e.relative),
      e.test.values.map((v) => signed(100 * v, 1) + (e.relative ? '%' : '')).join(' / '),
      `${e.wins}/${e.test.values.length}`,
      ...(anyValid ? [e.valid ? points(e.valid, e.relative) : '–'] : []),
      ...(anyGoal ? [e.goal ? `${e.goal.met}/${e.test.values.length}` : ''] : []),
    ]),
  );
}
