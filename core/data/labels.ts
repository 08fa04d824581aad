import { UserError } from '../util/errors.ts';

/**
 * Label schemes as data. Labels are listed best → worst, so a lower index means "more relevant";
 * an *optimistic* error (LREF §Stage 3) is a prediction with a lower index than the gold label.
 * See ../shared/docs/GRADING-RULES.md for what each LREF-5 grade means.
 */
export interface LabelScheme {
  id: string;
  name: string;
  /** best → worst */
  labels: readonly string[];
  /** one line per label: what it means (shown in prompts and the UI) */
  meaning: Readonly<Record<string, string>>;
}

export const LREF5: LabelScheme = {
  id: 'lref5',
  name: 'LREF-5',
  labels: ['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant'],
  meaning: {
    Exact: 'same product type; every stated modifier met',
    Significant: 'same type; primary modifiers met; one secondary modifier differs or is unverifiable',
    Marginal: 'same or substitute type; a primary modifier violated, or two or more secondary ones',
    Trivial: 'a related type: accessory, complement, part, or same category',
    Irrelevant: 'an unrelated product type',
  },
};

export const ESCI4: LabelScheme = {
  id: 'esci4',
  name: 'Amazon ESCI',
  labels: ['E', 'S', 'C', 'I'],
  meaning: { E: 'Exact', S: 'Substitute', C: 'Complement', I: 'Irrelevant' },
};

export const WANDS3: LabelScheme = {
  id: 'wands3',
  name: 'WANDS',
  labels: ['Exact', 'Partial', 'Irrelevant'],
  meaning: { Exact: 'fully relevant', Partial: 'partly relevant', Irrelevant: 'not relevant' },
};

export const BINARY: LabelScheme = {
  id: 'binary',
  name: 'Binary',
  labels: ['Relevant', 'Irrelevant'],
  meaning: { Relevant: 'relevant', Irrelevant: 'not relevant' },
};

/**
 * Home Depot: the mean of ≥3 ratings on 1 (irrelevant) … 3 (highly relevant). Bucketed by rounding
 * to the nearest grade: ≥ 2.5 → High, ≥ 1.5 → Medium, else Low (the PROVENANCE.md buckets:
 * 34,357 / 34,595 / 5,115 pairs).
 */
export const GRADED3: LabelScheme = {
  id: 'graded3',
  name: 'Graded 1–3 (Home Depot mean)',
  labels: ['High', 'Medium', 'Low'],
  meaning: { High: 'mean rating ≥ 2.5', Medium: 'mean rating in [1.5, 2.5)', Low: 'mean rating < 1.5' },
};

/** CrowdFlower: the median of 3 ratings, integer 1 (irrelevant) … 4 (perfect). One label per grade. */
export const GRADED4: LabelScheme = {
  id: 'graded4',
  name: 'Graded 1–4 (CrowdFlower median)',
  labels: ['4', '3', '2', '1'],
  meaning: { '4': 'perfectly relevant', '3': 'mostly relevant', '2': 'somewhat relevant', '1': 'irrelevant' },
};

export const SCHEMES: Readonly<Record<string, LabelScheme>> = {
  lref5: LREF5,
  esci4: ESCI4,
  wands3: WANDS3,
  binary: BINARY,
  graded3: GRADED3,
  graded4: GRADED4,
};

export function getScheme(id: string): LabelScheme {
  const s = SCHEMES[id];
  if (!s) throw new UserError(`unknown label scheme "${id}"; known: ${Object.keys(SCHEMES).join(', ')}`);
  return s;
}

export function labelIndex(scheme: LabelScheme, label: string): number {
  const i = scheme.labels.indexOf(label);
  if (i < 0) throw new UserError(`label "${label}" is not in scheme ${scheme.id} (${scheme.labels.join(', ')})`);
  return i;
}

/** Home Depot mean rating → graded3 label (see GRADED3). */
export function gradedMean3ToLabel(score: number): string {
  return score >= 2.5 ? 'High' : score >= 1.5 ? 'Medium' : 'Low';
}

/** CrowdFlower median rating → graded4 label. */
export function gradedMedian4ToLabel(score: number): string {
  const r = Math.round(score);
  if (r < 1 || r > 4 || r !== score) throw new UserError(`median_relevance must be an integer 1–4, got ${score}`);
  return String(r);
}

/**
 * Mappings between schemes. LREF-5 → public schemes follow GRADING-RULES.md §Mapping. The graded
 * schemes map onto LREF-5 by documented thresholds; the choice is a judgement call (raters' 1–4 scale
 * has no "Trivial vs Irrelevant" split), so every run records which mapping it used.
 */
const MAPPINGS: Record<string, Record<string, string>> = {
  'lref5>esci4': { Exact: 'E', Significant: 'S', Marginal: 'S', Trivial: 'C', Irrelevant: 'I' },
  'lref5>wands3': { Exact: 'Exact', Significant: 'Partial', Marginal: 'Partial', Trivial: 'Irrelevant', Irrelevant: 'Irrelevant' },
  'lref5>binary': { Exact: 'Relevant', Significant: 'Relevant', Marginal: 'Relevant', Trivial: 'Irrelevant', Irrelevant: 'Irrelevant' },
  'esci4>binary': { E: 'Relevant', S: 'Relevant', C: 'Irrelevant', I: 'Irrelevant' },
  'wands3>binary': { Exact: 'Relevant', Partial: 'Relevant', Irrelevant: 'Irrelevant' },
  // CrowdFlower 4 = perfect → Exact, 3 → Significant, 2 → Marginal, 1 → Irrelevant.
  'graded4>lref5': { '4': 'Exact', '3': 'Significant', '2': 'Marginal', '1': 'Irrelevant' },
  'graded4>binary': { '4': 'Relevant', '3': 'Relevant', '2': 'Irrelevant', '1': 'Irrelevant' },
  // Home Depot High → Exact, Medium → Marginal, Low → Irrelevant.
  'graded3>lref5': { High: 'Exact', Medium: 'Marginal', Low: 'Irrelevant' },
  'graded3>binary': { High: 'Relevant', Medium: 'Relevant', Low: 'Irrelevant' },
};

/** Maps one label from scheme `from` to scheme `to`; identity when they are the same. */
export function mapLabel(from: string, to: string, label: string): string {
  if (from === to) return label;
  const m = MAPPINGS[`${from}>${to}`];
  if (!m) throw new UserError(`no mapping from label scheme ${from} to ${to}; known: ${Object.keys(MAPPINGS).join(', ')}`);
  const out = m[label];
  if (out === undefined) throw new UserError(`label "${label}" is not in scheme ${from}`);
  return out;
}

export function canMap(from: string, to: string): boolean {
  return from === to || `${from}>${to}` in MAPPINGS;
}

/** True when `pred` grades the pair more relevant than `gold` (LREF's optimistic bias). */
export function isOptimistic(scheme: LabelScheme, gold: string, pred: string): boolean {
  return labelIndex(scheme, pred) < labelIndex(scheme, gold);
}
