import { describe, expect, it } from 'vitest';
import { MISSING, UNPARSEABLE, filterRows, type DecisionTable } from './decisions.ts';
import { builtinSlices, figures, sliceGaps } from './slices.ts';

function table(): DecisionTable {
  // 6 pairs; a is right on head pairs only, b on tail pairs only
  return {
    labels: ['Exact', 'Partial', 'Irrelevant'],
    rows: ['head', 'head', 'head', 'tail', 'tail', 'tail'].map((band, i) => ({ pair_id: `r${i}`, query: 'q', title: 't', band })),
    gold: Int8Array.from([0, 1, 2, 0, 1, 2]),
    columns: [
      { id: 'a', run: 'r', variant: 'a', pred: Int8Array.from([0, 1, 2, 1, UNPARSEABLE, 0]), prob: new Float32Array(6) },
      { id: 'b', run: 'r', variant: 'b', pred: Int8Array.from([1, 2, 0, 0, 1, MISSING]), prob: new Float32Array(6) },
    ],
  };
}

describe('slices', () => {
  it('figures: accuracy, and macro-F1 with unparseable as a class of its own', () => {
    const t = table();
    const all = filterRows(t, ['a', 'b'], {});
    const a = figures(t, 'a', all);
    expect(a.n).toBe(6);
    expect(a.accuracy).toBeCloseTo(3 / 6);
    // per class F1: Exact 2·1/(2+1+1)=.5, Partial 2/(2+1+0)... computed by hand:
    // Exact tp1 fp1(r5) fn1(r3) → .5; Partial tp1 fp1(r3) fn1(r4) → .5; Irrelevant tp1 fp0 fn1(r5) → .667; unparseable tp0 fp1 → 0
    expect(a.macro_f1).toBeCloseTo((0.5 + 0.5 + 2 / 3 + 0) / 4);
    expect(figures(t, 'b', all).n).toBe(5); // b has no answer on r5
  });

  it('ranks slices by the accuracy gap between two variants', () => {
    const t = table();
    const gaps = sliceGaps(t, 'a', 'b', builtinSlices(t), 2);
    expect(gaps.map((g) => [g.slice.name, Number(g.delta.toFixed(3))]).slice(0, 2)).toEqual([
      ['band = head', -1],
      ['band = tail', 1],
    ]);
  });
});
