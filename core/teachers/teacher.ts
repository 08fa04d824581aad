import type { PairRecord } from '../data/schema.ts';
import { labelIndex, type LabelScheme } from '../data/labels.ts';
import type { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';

/**
 * A teacher writes the rationales LREF distils in stage 2 (Multi-CoT) and, optionally, names the
 * confusable label LREF's mislabel supervisor (MS, stage 1) is trained on. Implementations: a
 * rationale-from-data teacher (from-data.ts), an OpenAI-compatible LLM (openai.ts), a rule teacher.
 */
export type CotKind = 'ee' | 'ra' | 'dr';
export const COT_KINDS: readonly CotKind[] = ['ee', 'ra', 'dr'];

export interface RationaleRequest {
  /** ee: explain why `gold` holds; ra: derive `gold` from `rules`; dr: explain why `wrong` is wrong. */
  kind: CotKind;
  pair: PairRecord;
  scheme: LabelScheme;
  /** the correct label (a label of `scheme`) */
  gold: string;
  /** DR only: the sampled wrong decision (see sampleWrongLabel) */
  wrong?: string;
  /** RA only (optional for the others): the grading rules text shown to the teacher */
  rules?: string;
}

export interface ConfusableRequest {
  pair: PairRecord;
  scheme: LabelScheme;
  /** the annotated label; the answer must be a different label of the scheme */
  gold: string;
}

export interface Teacher {
  /** stable id recorded in run provenance, e.g. "from-data" or "openai:gpt-4o-mini" */
  id: string;
  rationale(req: RationaleRequest): Promise<string>;
  /** LREF MS: the label the annotated one is most easily confused with (label′ ≠ gold). */
  confusableLabel?(req: ConfusableRequest): Promise<string>;
}

/**
 * How DR-CoT's wrong decision is drawn, by where it sits relative to the gold grade.
 * Why neighbours, and why the optimistic one most: LREF reports that after SFT about 70% of the
 * residual errors over-grade a pair (an accessory taken for the product, a violated brand
 * overlooked), and that the right answer usually sits one beam position below. Reflection is most
 * useful on the mistakes the model actually makes, so the sampled wrong decision is mostly the
 * grade just above gold (optimistic), sometimes the one just below, rarely anything farther.
 * The 0.6 / 0.25 / 0.15 split is our choice (the paper does not give one); it roughly mirrors
 * the 70/30 optimistic/pessimistic error mix while keeping some far-off decisions in the data.
 * When a category is empty (gold is the best grade: no optimistic neighbour) its weight is
 * dropped and the others share the draw in proportion.
 */
export const WRONG_LABEL_WEIGHTS = { optimisticNeighbour: 0.6, pessimisticNeighbour: 0.25, farther: 0.15 } as const;

/** Samples a wrong decision for DR-CoT (see WRONG_LABEL_WEIGHTS). Always ≠ gold. */
export function sampleWrongLabel(
  scheme: LabelScheme,
  gold: string,
  rng: Rng,
  weights: { optimisticNeighbour: number; pessimisticNeighbour: number; farther: number } = WRONG_LABEL_WEIGHTS,
): string {
  const g = labelIndex(scheme, gold);
  if (scheme.labels.length < 2) throw new UserError(`scheme ${scheme.id} has one label; there is no wrong decision to sample`);
  const candidates: string[] = [];
  const w: number[] = [];
  const farther = scheme.labels.filter((_, i) => Math.abs(i - g) > 1);
  // Labels are best → worst, so the optimistic neighbour has the lower index.
  if (g > 0) {
    candidates.push(scheme.labels[g - 1]);
    w.push(weights.optimisticNeighbour);
  }
  if (g < scheme.labels.length - 1) {
    candidates.push(scheme.labels[g + 1]);
    w.push(weights.pessimisticNeighbour);
  }
  for (const label of farther) {
    candidates.push(label);
    w.push(weights.farther / farther.length);
  }
  return rng.weighted(candidates, w);
}

/**
 * Reads a label of `scheme` out of free teacher text: the whole answer if it is exactly a label,
 * else the first label named as a whole word (case-insensitive), skipping `exclude`. Longer labels
 * are tried first so "Irrelevant" is not read as a shorter label it contains. Undefined if none.
 */
export function parseLabel(scheme: LabelScheme, text: string, exclude?: string): string | undefined {
  const clean = text.trim().replace(/^["'*`\s]+|["'*`.\s]+$/g, '');
  const allowed = scheme.labels.filter((l) => l !== exclude);
  const exact = allowed.find((l) => l.toLowerCase() === clean.toLowerCase());
  if (exact) return exact;
  let best: { label: string; at: number } | undefined;
  for (const label of [...allowed].sort((a, b) => b.length - a.length)) {
    const re = new RegExp(`(^|[^A-Za-z0-9])${escapeRegExp(label)}($|[^A-Za-z0-9])`, 'i');
    const m = re.exec(text);
    if (m && (best === undefined || m.index < best.at)) best = { label, at: m.index };
  }
  return best?.label;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
