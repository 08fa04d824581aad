import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import { sample } from '../data/split.ts';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';

/**
 * LREF stage 1's data selection as pure logic: the config, the keep rule, the budget, the top-up
 * and the per-pair record the run folder stores as selection.jsonl. No tensors here; select.ts
 * trains the auxiliary models and hands their predictions to `decideSelection`.
 */

/** A fraction of the train set in (0, 1], or a whole count > 1. */
const Amount = z
  .number()
  .positive()
  .refine((v) => v <= 1 || Number.isInteger(v), { message: 'must be a fraction in (0, 1] or a whole count > 1' });

export const SelectionConfig = z
  .object({
    version: z.literal(1).default(1),
    /**
     * lref: IM/CI/MS choose the data (LREF §Stage 1). all: every pair (the "SFT on all data"
     * baseline). random: a seeded random subset of the same size as lref's, for an equal-budget
     * ablation (or of `budget` pairs when a budget is given).
     */
    selector: z.enum(['lref', 'all', 'random']).default('lref'),
    /**
     * Most pairs to keep. lref: when the rule keeps more, the hardest (lowest IM probability on the
     * gold label) are kept. random: exactly this many. Unset: lref keeps what the rule keeps and
     * random matches that number. The paper reports about a tenth kept (5M → 500K, unverified).
     */
    budget: Amount.optional(),
    /**
     * Fewest pairs lref may hand to SFT. 0.05 (half the paper's tenth): below that, a tiny model's
     * SFT sees too few pairs to learn the label format, and the rule keeping so few usually means
     * the aux models are undertrained (CI rarely right), not that the data is that clean.
     */
    minKept: Amount.default(0.05),
    /**
     * What lref does when the rule keeps fewer than minKept. top-up: add the dropped pairs that
     * come closest to passing (see `topUpOrder`). keep: hand over what the rule kept, however few.
     */
    fallback: z.enum(['top-up', 'keep']).default('top-up'),
    /**
     * Share of the train set each aux model (IM, CI, MS) is fine-tuned on; 0.5 as the paper samples.
     * Drawn from the pairs outside the fold being scored, so capped at that pool (see auxFolds).
     */
    auxSampleFraction: z.number().gt(0).max(1).default(0.5),
    /**
     * K-fold cross-fitting: the train pairs are dealt into K folds; for each fold, IM, CI and MS are
     * fine-tuned on a sample of the *other* folds and judge only that fold's pairs, so no aux model
     * scores a pair it was trained on. Without it (the paper's wording: train on a 50% sample, then
     * predict every pair) a pair's chance of being kept depended on which sample it fell in —
     * measured: CI kept ~9.8% of its own sample vs ~5.2% of the rest. K = 2 with a 0.5 sample is
     * the paper's sample size; costs K times the aux training.
     */
    auxFolds: z.number().int().min(2).max(10).default(2),
    /** Optimizer steps per aux model; unset: the run's trainConfig.steps. */
    auxSteps: z.number().int().min(1).optional(),
    /**
     * ne: keep x when MS(x) ≠ L(x) — MS predicts the label annotators typically slip to, so MS
     * agreeing with the annotation flags a likely mislabel (LREF.md's reading, our default).
     * eq: keep x when MS(x) = L(x), as one paper note writes it; kept as a switch to test it.
     */
    msDirection: z.enum(['ne', 'eq']).default('ne'),
    /**
     * none: hand SFT what the rule (budget, minimum) kept. label: then reshape that set, same size,
     * to the train split's grade mix — per grade the hardest kept pairs up to its share, topped up
     * in `topUpOrder` from that grade's dropped pairs. Why: weak aux models err in a few systematic
     * ways (our tiny IM calls most Significant pairs Exact and most Marginal ones Trivial), so "IM
     * wrong" keeps mostly two grades and almost no Irrelevant, Trivial or Exact pair; a model
     * fine-tuned on that never predicts the missing grades. LREF's selected tenth of 5M pairs
     * covers every grade; the paper does not say whether by design. Our choice; default none
     * (the rule as written).
     */
    balance: z.enum(['none', 'label']).default('none'),
  })
  .strict()
  .refine((c) => c.selector !== 'all' || c.budget === undefined, {
    message: 'selector "all" keeps every pair; a budget does not apply (use "random" for a random subset)',
    path: ['budget'],
  });
export type SelectionConfig = z.infer<typeof SelectionConfig>;
export type SelectionConfigInput = z.input<typeof SelectionConfig>;

/** Parses a selection config, naming the field at fault as every input error does. */
export function parseSelectionConfig(raw: unknown, source = 'selection config'): SelectionConfig {
  const r = SelectionConfig.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new UserError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

// The record of selection.jsonl is a run-file schema: it lives with the others in core/runs.
import { SelectionReason, SelectionRecord } from '../runs/schema.ts';
export { SelectionReason, SelectionRecord };

/**
 * The LREF keep rule: IM(x) ≠ L(x) (hard) ∧ CI(x) = L(x) (learnable) ∧ MS(x) ≠ L(x) (not a likely
 * mislabel; = with msDirection "eq"). A dropped pair is named by the first check it fails, in the
 * paper's order.
 */
export function selectionRule(gold: string, im: string, ci: string, ms: string, msDirection: 'ne' | 'eq'): { keep: boolean; reason: SelectionReason } {
  if (im === gold) return { keep: false, reason: 'easy: IM right' };
  if (ci !== gold) return { keep: false, reason: 'not learnable: CI wrong' };
  if (msDirection === 'ne' && ms === gold) return { keep: false, reason: 'likely mislabel: MS agrees' };
  if (msDirection === 'eq' && ms !== gold) return { keep: false, reason: 'MS disagrees (msDirection eq)' };
  return { keep: true, reason: 'kept: hard, learnable, not a likely mislabel' };
}

/** A budget or minimum as a pair count out of n: fractions round to the nearest pair, capped at n. */
export function resolveAmount(amount: number, n: number): number {
  return Math.min(n, amount <= 1 ? Math.round(amount * n) : amount);
}

/** What the aux models said about one pair (aligned with the train pairs). */
export interface AuxVerdict {
  im: string;
  ci: string;
  ms: string;
  /** IM's probability of the gold label */
  imPGold: number;
}

/**
 * How far a dropped pair is from passing, for the top-up (lower = closer). A wasted easy pair costs
 * least (SFT merely learns little from it), an unlearnable one more (noise to the model), a likely
 * mislabel most (it teaches the wrong answer): weights 1, 2, 4, summed over the failed checks.
 */
export function topUpCost(gold: string, v: AuxVerdict, msDirection: 'ne' | 'eq'): number {
  const msFails = msDirection === 'ne' ? v.ms === gold : v.ms !== gold;
  return (v.im === gold ? 1 : 0) + (v.ci !== gold ? 2 : 0) + (msFails ? 4 : 0);
}

/** Indices ordered hardest first (lowest IM probability of gold), ties by input order. */
function hardestFirst(idx: number[], aux: readonly AuxVerdict[]): number[] {
  return idx.slice().sort((a, b) => aux[a].imPGold - aux[b].imPGold || a - b);
}

/** Dropped indices in top-up order: lowest cost first, then hardest first, then input order. */
export function topUpOrder(pairs: readonly Pick<PairRecord, 'label'>[], aux: readonly AuxVerdict[], dropped: number[], msDirection: 'ne' | 'eq'): number[] {
  const cost = (i: number) => topUpCost(pairs[i].label, aux[i], msDirection);
  return dropped.slice().sort((a, b) => cost(a) - cost(b) || aux[a].imPGold - aux[b].imPGold || a - b);
}

/**
 * The verdict on every train pair given the aux predictions: the rule, then the budget (lref keeps
 * the hardest), then the minimum (top-up or keep as is), or for "random" a seeded draw of the same
 * size. `msTargets` (pair_id → label′) only annotates the records.
 */
export function decideSelection(
  pairs: readonly SelectablePair[],
  aux: readonly AuxVerdict[],
  cfg: SelectionConfig,
  seed: number,
  msTargets: ReadonlyMap<string, string> = new Map(),
  folds?: readonly number[],
): SelectionRecord[] {
  if (aux.length !== pairs.length) throw new Error(`decideSelection: ${pairs.length} pairs but ${aux.length} aux verdicts`);
  if (cfg.selector === 'all') return allSelection(pairs);
  const n = pairs.length;
  const records: SelectionRecord[] = pairs.map((p, i) => {
    const v = aux[i];
    const { keep, reason } = selectionRule(p.label, v.im, v.ci, v.ms, cfg.msDirection);
    const r: SelectionRecord = { pair_id: p.pair_id, gold: p.label, im: v.im, ci: v.ci, ms: v.ms, im_p_gold: v.imPGold, kept: keep, reason };
    const target = msTargets.get(p.pair_id);
    if (target !== undefined) r.ms_target = target;
    if (folds) r.fold = folds[i];
    return { ...r, ...pairText(p) };
  });
  const keptIdx = records.flatMap((r, i) => (r.kept ? [i] : []));
  const budget = cfg.budget === undefined ? n : resolveAmount(cfg.budget, n);
  if (keptIdx.length > budget) {
    for (const i of hardestFirst(keptIdx, aux).slice(budget)) {
      records[i].kept = false;
      records[i].reason = 'over budget: less hard than those kept';
    }
  }
  const minimum = Math.min(resolveAmount(cfg.minKept, n), budget);
  const keptNow = Math.min(keptIdx.length, budget);
  if (cfg.fallback === 'top-up' && keptNow < minimum) {
    const dropped = records.flatMap((r, i) => (r.kept || r.reason === 'over budget: less hard than those kept' ? [] : [i]));
    for (const i of topUpOrder(pairs, aux, dropped, cfg.msDirection).slice(0, minimum - keptNow)) {
      records[i].kept = true;
      records[i].reason = 'top-up: the rule kept too few';
    }
  }
  if (cfg.balance === 'label') balanceByLabel(pairs, aux, records, cfg.msDirection);
  if (cfg.selector === 'lref') return records;
  // random: the same number lref ends with (or the budget, when one is given)
  const count = cfg.budget === undefined ? records.filter((r) => r.kept).length : budget;
  return randomSelection(records, count, seed);
}

/**
 * Per-grade quotas for `total` pairs in the proportions of `labels` (largest remainder, ties by
 * first appearance), so they sum to `total` exactly.
 */
export function labelQuotas(labels: readonly string[], total: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const exact = [...counts].map(([l, c]) => ({ l, q: (total * c) / labels.length }));
  const quotas = new Map(exact.map(({ l, q }) => [l, Math.floor(q)]));
  let left = total - [...quotas.values()].reduce((a, b) => a + b, 0);
  for (const { l } of exact.slice().sort((a, b) => b.q - Math.floor(b.q) - (a.q - Math.floor(a.q)))) {
    if (left-- <= 0) break;
    quotas.set(l, quotas.get(l)! + 1);
  }
  return quotas;
}

/**
 * selection.balance "label": the kept set, same size, reshaped to the grade mix of all `pairs`. A
 * grade over its share keeps its hardest pairs; one under it takes its dropped pairs in top-up
 * order: first the pairs the rule kept but the budget dropped (they pass every check: cost 0),
 * then the closest to passing, hardest first.
 */
function balanceByLabel(pairs: readonly Pick<PairRecord, 'label'>[], aux: readonly AuxVerdict[], records: SelectionRecord[], msDirection: 'ne' | 'eq'): void {
  const kept = records.flatMap((r, i) => (r.kept ? [i] : []));
  const quotas = labelQuotas(pairs.map((p) => p.label), kept.length);
  for (const [label, quota] of quotas) {
    const mine = kept.filter((i) => pairs[i].label === label);
    if (mine.length > quota) {
      for (const i of hardestFirst(mine, aux).slice(quota)) {
        records[i].kept = false;
        records[i].reason = "balance: over its grade's share";
      }
    } else if (mine.length < quota) {
      const dropped = records.flatMap((r, i) => (!r.kept && pairs[i].label === label ? [i] : []));
      for (const i of topUpOrder(pairs, aux, dropped, msDirection).slice(0, quota - mine.length)) {
        records[i].kept = true;
        records[i].reason = 'balance: topped up its grade';
      }
    }
  }
}

/** A seeded random `count` of the records kept, the rest dropped; aux predictions stay for comparison. */
export function randomSelection(records: readonly SelectionRecord[], count: number, seed: number): SelectionRecord[] {
  const drawn = new Set(sample(records.map((_, i) => i), count, new Rng(seed).fork('select/random')));
  return records.map((r, i) => ({ ...r, kept: drawn.has(i), reason: drawn.has(i) ? 'random: drawn' : 'random: not drawn' }));
}

/** Selector "all": every pair kept, no aux models consulted. */
type SelectablePair = Pick<PairRecord, 'pair_id' | 'label'> & Partial<Pick<PairRecord, 'query_freq' | 'query' | 'title'>>;

export function allSelection(pairs: readonly SelectablePair[]): SelectionRecord[] {
  return pairs.map((p) => ({ pair_id: p.pair_id, gold: p.label, kept: true, reason: 'all: no selection', ...pairText(p) }));
}

/** What a record says about the pair itself: its query band and text, where the pair has them. */
function pairText(p: SelectablePair): Pick<SelectionRecord, 'band' | 'query' | 'title'> {
  return { ...(p.query_freq ? { band: p.query_freq } : {}), ...(p.query !== undefined ? { query: p.query } : {}), ...(p.title !== undefined ? { title: p.title } : {}) };
}

export interface SelectionCounts {
  total: number;
  kept: number;
  /** every reason that occurs, with its count (kept and dropped reasons alike) */
  byReason: Partial<Record<SelectionReason, number>>;
}

export function countSelection(records: readonly SelectionRecord[]): SelectionCounts {
  const byReason: Partial<Record<SelectionReason, number>> = {};
  for (const r of records) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
  return { total: records.length, kept: records.filter((r) => r.kept).length, byReason };
}

/** One log line: how many kept and why the others were dropped. */
export function describeSelection(selector: SelectionConfig['selector'], counts: SelectionCounts): string {
  const pct = counts.total > 0 ? ((100 * counts.kept) / counts.total).toFixed(1) : '0.0';
  const parts = Object.entries(counts.byReason)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, c]) => `${reason} ${c}`);
  return `select ${selector}: kept ${counts.kept}/${counts.total} (${pct}%) — ${parts.join(', ')}`;
}
