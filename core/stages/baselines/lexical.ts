import { z } from 'zod';
import type { LabelScheme } from '../../data/labels.ts';
import type { PairRecord } from '../../data/schema.ts';
import { macroF1FromCounts } from '../../eval/metrics.ts';
import { UserError } from '../../util/errors.ts';
import { productText, queryCoverage, tokenize } from '../../text/words.ts';
import { BM25_B, BM25_K1, bm25, bm25UpperBound, bm25Stats, type Bm25Stats } from './bm25.ts';

/**
 * The lexical baseline: no neural model, just word overlap. It is the floor every LREF variant
 * must clear, and a sanity check on a data set (if BM25 already gets most pairs right, the data is
 * easy). Three features, each on [0, 1]:
 *   bm25           BM25 of the query against the product text, divided by its supremum for that query
 *   coverage       share of the query's distinct tokens found in the product text
 *   title_coverage the same against the title alone (titles are what shoppers and raters read first)
 * Product text = title + brand + category + attribute values. One score = a convex mix of the three;
 * grades come from thresholds on the score, one per boundary between adjacent grades. The mix and
 * the thresholds are both chosen on the training split to maximise macro-F1 (the LREF paper's
 * headline metric), by a deterministic search: no randomness, so the same data gives the same model.
 */

export const LexicalModel = z
  .object({
    version: z.literal(1),
    kind: z.literal('lexical-bm25'),
    /** the scheme's id and labels (best → worst) at training time; predictions use these labels */
    scheme: z.string(),
    labels: z.array(z.string()).min(2),
    k1: z.number(),
    b: z.number(),
    /** BM25 corpus statistics over the distinct training products */
    n_docs: z.number().int().nonnegative(),
    avg_doc_len: z.number().nonnegative(),
    /** [term, document frequency], sorted by term: an array, not an object, so a term like "constructor" is safe */
    df: z.array(z.tuple([z.string(), z.number().int().positive()])),
    weights: z.object({ bm25: z.number(), coverage: z.number(), title_coverage: z.number() }).strict(),
    /** labels.length − 1 thresholds, non-increasing: score ≥ thresholds[0] → labels[0], … below all → last label */
    thresholds: z.array(z.number()),
    train: z.object({ n: z.number().int(), macro_f1: z.number() }).strict(),
  })
  .strict();
export type LexicalModel = z.infer<typeof LexicalModel>;

export interface LexicalFeatures {
  bm25: number;
  coverage: number;
  title_coverage: number;
}

function features(stats: Bm25Stats, k1: number, b: number, pair: PairRecord): LexicalFeatures {
  const query = [...new Set(tokenize(pair.query))];
  if (query.length === 0) return { bm25: 0, coverage: 0, title_coverage: 0 };
  const max = bm25UpperBound(stats, query, { k1, b });
  const cover = queryCoverage(pair);
  return {
    bm25: max > 0 ? bm25(stats, query, tokenize(productText(pair)), { k1, b }) / max : 0,
    coverage: cover.inProduct / cover.queryWords,
    title_coverage: cover.inTitle / cover.queryWords,
  };
}

const mix = (f: LexicalFeatures, w: LexicalModel['weights']): number =>
  w.bm25 * f.bm25 + w.coverage * f.coverage + w.title_coverage * f.title_coverage;

/** Candidate mixes: the simplex in steps of 1/4 (15 points), in a fixed order so ties resolve the same way. */
export const MIX_GRID: readonly LexicalModel['weights'][] = (() => {
  const out: LexicalModel['weights'][] = [];
  for (let i = 4; i >= 0; i--) for (let j = 4 - i; j >= 0; j--) out.push({ bm25: i / 4, coverage: j / 4, title_coverage: (4 - i - j) / 4 });
  return out;
})();

export function trainLexical(trainPairs: readonly PairRecord[], scheme: LabelScheme): LexicalModel {
  if (trainPairs.length === 0) throw new UserError('lexical baseline: the training split is empty');
  const k = scheme.labels.length;
  const gold = trainPairs.map((p) => {
    const i = scheme.labels.indexOf(p.label);
    if (i < 0) throw new UserError(`lexical baseline: pair ${p.pair_id}: label "${p.label}" is not in scheme ${scheme.id} (${scheme.labels.join(', ')})`);
    return i;
  });
  // A product shown for many queries is one document, not many: df counts distinct products.
  const docs = new Map<string, string[]>();
  for (const p of trainPairs) if (!docs.has(p.product_id)) docs.set(p.product_id, tokenize(productText(p)));
  const stats = bm25Stats([...docs.values()]);
  const feats = trainPairs.map((p) => features(stats, BM25_K1, BM25_B, p));

  let best: { weights: LexicalModel['weights']; thresholds: number[]; macroF1: number } | undefined;
  for (const weights of MIX_GRID) {
    const tuned = tuneThresholds(feats.map((f) => mix(f, weights)), gold, k);
    if (best === undefined || tuned.macroF1 > best.macroF1 + 1e-12) best = { weights, ...tuned };
  }
  const chosen = best!;
  return {
    version: 1,
    kind: 'lexical-bm25',
    scheme: scheme.id,
    labels: [...scheme.labels],
    k1: BM25_K1,
    b: BM25_B,
    n_docs: stats.nDocs,
    avg_doc_len: stats.avgDocLen,
    df: [...stats.df.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    weights: chosen.weights,
    thresholds: chosen.thresholds,
    train: { n: trainPairs.length, macro_f1: chosen.macroF1 },
  };
}

// Rebuilding the df map per call would dominate prediction time; models are immutable values.
const statsCache = new WeakMap<LexicalModel, Bm25Stats>();
function statsOf(model: LexicalModel): Bm25Stats {
  let s = statsCache.get(model);
  if (!s) {
    s = { nDocs: model.n_docs, avgDocLen: model.avg_doc_len, df: new Map(model.df) };
    statsCache.set(model, s);
  }
  return s;
}

export function lexicalFeatures(model: LexicalModel, pair: PairRecord): LexicalFeatures {
  return features(statsOf(model), model.k1, model.b, pair);
}

/** One {label, score} per pair, in order. Each pair is scored alone (batch composition never matters). */
export function predictLexical(model: LexicalModel, pairs: readonly PairRecord[]): { label: string; score: number }[] {
  return pairs.map((p) => {
    const score = mix(lexicalFeatures(model, p), model.weights);
    return { label: model.labels[gradeOf(model.thresholds, score)], score };
  });
}

/** Grade index (0 = best) of a score: how many thresholds it falls below. */
export function gradeOf(thresholds: readonly number[], score: number): number {
  let g = 0;
  for (const t of thresholds) if (score < t) g++;
  return g;
}

// ---------------------------------------------------------------- threshold search

/**
 * Chooses k − 1 ordered thresholds on `scores` (higher = more relevant; gold 0 = best grade) to
 * maximise macro-F1 on these pairs. Work happens on positions in the ascending sort: boundary j
 * sits at position pos[j], and the pair at sorted position i gets grade #{j : i < pos[j]}, so
 * pos[1] ≥ pos[2] ≥ … and grade 0 takes the top scores. Only positions between two distinct
 * scores (or the ends) are allowed, so tied scores always share a grade.
 *
 * Start: each boundary where the predicted label mix equals the gold mix (quantile matching).
 * Then coordinate ascent: for each boundary in turn, sweep every allowed position between its
 * neighbours, updating the confusion counts one pair at a time (O(n) per sweep), and move it to
 * the best one — only on a strict improvement, the lowest such position first, so the result is
 * deterministic. Rounds repeat until nothing moves. A local optimum, not necessarily global.
 * Each boundary becomes the midpoint of the scores either side; an empty top or bottom grade
 * becomes ±Number.MAX_VALUE (finite, so the model stays valid JSON).
 */
export function tuneThresholds(
  scores: readonly number[],
  gold: readonly number[],
  k: number,
  maxRounds = 50,
): { thresholds: number[]; macroF1: number } {
  const n = scores.length;
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b] || a - b);
  const s = order.map((i) => scores[i]);
  const g = order.map((i) => gold[i]);
  const allowed = (p: number) => p === 0 || p === n || s[p - 1] < s[p];

  const goldCount = new Array<number>(k).fill(0);
  for (const c of g) goldCount[c]++;
  const snap = (p: number) => {
    for (let d = 0; ; d++) {
      if (p - d >= 0 && allowed(p - d)) return p - d;
      if (p + d <= n && allowed(p + d)) return p + d;
    }
  };
  // pos[0] = n and pos[k] = 0 are fixed sentinels.
  const pos = new Array<number>(k + 1);
  pos[0] = n;
  pos[k] = 0;
  let atOrBelow = n;
  for (let j = 1; j < k; j++) {
    atOrBelow -= goldCount[j - 1]; // pairs with gold ≥ j
    pos[j] = snap(atOrBelow);
  }

  const tp = new Array<number>(k).fill(0);
  const pred = new Array<number>(k).fill(0);
  const recount = () => {
    tp.fill(0);
    pred.fill(0);
    for (let j = 0; j < k; j++) {
      for (let i = pos[j + 1]; i < pos[j]; i++) {
        pred[j]++;
        if (g[i] === j) tp[j]++;
      }
    }
  };
  recount();
  let current = macroF1FromCounts(tp, goldCount, pred);

  for (let round = 0; round < maxRounds; round++) {
    let moved = false;
    for (let j = 1; j < k; j++) {
      const lo = pos[j + 1];
      const hi = pos[j - 1];
      // Put the boundary at lo: the pairs in [lo, pos[j]) move from grade j up to grade j − 1.
      for (let i = lo; i < pos[j]; i++) {
        pred[j]--;
        pred[j - 1]++;
        if (g[i] === j) tp[j]--;
        if (g[i] === j - 1) tp[j - 1]++;
      }
      let bestPos = -1;
      let bestF1 = current;
      for (let p = lo; p <= hi; p++) {
        if (allowed(p)) {
          const f1 = macroF1FromCounts(tp, goldCount, pred);
          if (f1 > bestF1 + 1e-12) {
            bestF1 = f1;
            bestPos = p;
          }
        }
        if (p < hi) {
          // Step past pair p: it drops from grade j − 1 to grade j.
          pred[j - 1]--;
          pred[j]++;
          if (g[p] === j - 1) tp[j - 1]--;
          if (g[p] === j) tp[j]++;
        }
      }
      if (bestPos >= 0 && bestPos !== pos[j]) {
        pos[j] = bestPos;
        current = bestF1;
        moved = true;
      }
      recount();
    }
    if (!moved) break;
  }

  const thresholds: number[] = [];
  for (let j = 1; j < k; j++) {
    const p = pos[j];
    if (p === n) thresholds.push(Number.MAX_VALUE);
    else if (p === 0) thresholds.push(-Number.MAX_VALUE);
    else {
      const mid = (s[p - 1] + s[p]) / 2;
      thresholds.push(mid > s[p - 1] ? mid : s[p]); // adjacent floats: the midpoint may round down onto s[p − 1]
    }
  }
  return { thresholds, macroF1: current };
}
