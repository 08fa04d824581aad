import { z } from 'zod';
import { columnsById, filterRows, Filters, MISSING, UNPARSEABLE, type DecisionTable } from './decisions.ts';

/**
 * Slices: named filters over a run's pairs (saved by the user, or the ready-made ones every pair
 * has: gold grade, query band, intent), with each variant's figures on them, and a slice finder
 * that ranks slices by how much two variants differ there (Zeno's idea, on ordered grades).
 */
export const Slice = z.object({ name: z.string().min(1).max(120), filters: Filters });
export type Slice = z.infer<typeof Slice>;

export interface SliceFigures {
  n: number;
  accuracy: number;
  /** macro-F1 over the grades present in gold or predicted, unparseable a class of its own (as in metrics.ts) */
  macro_f1: number;
}

export function figures(t: DecisionTable, column: string, rows: Int32Array): SliceFigures {
  const [c] = columnsById(t, [column]);
  const k = t.labels.length + 1; // + unparseable
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const fn = new Float64Array(k);
  let n = 0;
  let right = 0;
  for (const i of rows) {
    const g = t.gold[i];
    const p = c.pred[i];
    if (g < 0 || p === MISSING) continue;
    const pc = p === UNPARSEABLE ? k - 1 : p;
    n++;
    if (pc === g) {
      right++;
      tp[g]++;
    } else {
      fp[pc]++;
      fn[g]++;
    }
  }
  let f1 = 0;
  let classes = 0;
  for (let j = 0; j < k; j++) {
    if (tp[j] + fp[j] + fn[j] === 0) continue;
    classes++;
    f1 += (2 * tp[j]) / (2 * tp[j] + fp[j] + fn[j]);
  }
  return { n, accuracy: n ? right / n : 0, macro_f1: classes ? f1 / classes : 0 };
}

/** The slices every table has: one per gold grade, query band and intent present. */
export function builtinSlices(t: DecisionTable): Slice[] {
  const out: Slice[] = t.labels.map((l) => ({ name: `gold = ${l}`, filters: { gold: [l] } }));
  for (const b of new Set(t.rows.map((r) => r.band).filter((x): x is string => Boolean(x)))) out.push({ name: `band = ${b}`, filters: { band: [b] } });
  for (const it of new Set(t.rows.map((r) => r.intent).filter((x): x is string => Boolean(x)))) out.push({ name: `intent = ${it}`, filters: { intent: [it] } });
  return out;
}

export interface SliceGap {
  slice: Slice;
  n: number;
  a: SliceFigures;
  b: SliceFigures;
  /** b − a accuracy */
  delta: number;
}

/** Slices ranked by |accuracy(b) − accuracy(a)|, ignoring slices smaller than `minPairs`. */
export function sliceGaps(t: DecisionTable, a: string, b: string, slices: readonly Slice[], minPairs = 5): SliceGap[] {
  const gaps: SliceGap[] = [];
  for (const s of slices) {
    const rows = filterRows(t, [a, b], s.filters);
    const fa = figures(t, a, rows);
    const fb = figures(t, b, rows);
    if (Math.min(fa.n, fb.n) < minPairs) continue;
    gaps.push({ slice: s, n: rows.length, a: fa, b: fb, delta: fb.accuracy - fa.accuracy });
  }
  return gaps.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
}
