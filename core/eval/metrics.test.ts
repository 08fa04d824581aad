import { describe, expect, it } from 'vitest';
import { LREF5, WANDS3 } from '../data/labels.ts';
import { computeMetrics, macroF1FromCounts, MetricsRecord } from './metrics.ts';

describe('computeMetrics', () => {
  it('matches a hand-computed LREF-5 case with optimistic, pessimistic and unparseable errors', () => {
    //  #  gold         pred
    //  1  Exact        Exact        correct
    //  2  Exact        Significant  pessimistic (pred less relevant)
    //  3  Exact        Exact        correct
    //  4  Significant  Significant  correct
    //  5  Significant  Exact        optimistic
    //  6  Marginal     Marginal     correct
    //  7  Marginal     Significant  optimistic
    //  8  Marginal     Trivial      pessimistic
    //  9  Trivial      Trivial      correct
    // 10  Irrelevant   (unparseable)
    const gold = ['Exact', 'Exact', 'Exact', 'Significant', 'Significant', 'Marginal', 'Marginal', 'Marginal', 'Trivial', 'Irrelevant'];
    const pred = ['Exact', 'Significant', 'Exact', 'Significant', 'Exact', 'Marginal', 'Significant', 'Trivial', 'Trivial', null];
    const m = computeMetrics('hand', gold, pred, LREF5);
    expect(MetricsRecord.parse(m)).toEqual(m);

    // accuracy 5/10; errors 5 (2 optimistic, 2 pessimistic, 1 unparseable); the optimistic figures
    // are over the 9 parseable predictions and their 4 errors, the unparseable rate beside them
    expect(m.accuracy).toBe(0.5);
    expect(m.optimistic_rate).toBe(2 / 9);
    expect(m.optimistic_error_share).toBe(0.5); // 2/4
    expect(m.pessimistic_rate).toBe(2 / 9);
    expect(m.pessimistic_error_share).toBe(0.5);
    expect(m.unparseable).toBe(1);
    expect(m.unparseable_rate).toBe(0.1);
    expect(m.n).toBe(10);

    // Exact:       predicted at 1,3,5 → P = 2/3; gold 1,2,3 → R = 2/3; F1 = 2/3
    // Significant: predicted at 2,4,7 → P = 1/3; gold 4,5 → R = 1/2;   F1 = 2·(1/3)(1/2)/(5/6) = 2/5
    // Marginal:    predicted at 6     → P = 1;   gold 6,7,8 → R = 1/3; F1 = 2·(1/3)/(4/3) = 1/2
    // Trivial:     predicted at 8,9   → P = 1/2; gold 9 → R = 1;       F1 = 2·(1/2)/(3/2) = 2/3
    // Irrelevant:  never predicted    → P = 0;   gold 10 → R = 0;      F1 = 0
    const pc = m.per_class;
    expect(pc.Exact.precision).toBeCloseTo(2 / 3, 12);
    expect(pc.Exact.recall).toBeCloseTo(2 / 3, 12);
    expect(pc.Significant).toEqual({ precision: 1 / 3, recall: 0.5, f1: expect.closeTo(0.4, 12), support: 2 });
    expect(pc.Marginal).toEqual({ precision: 1, recall: 1 / 3, f1: expect.closeTo(0.5, 12), support: 3 });
    expect(pc.Trivial.f1).toBeCloseTo(2 / 3, 12);
    expect(pc.Irrelevant).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });

    // macro over the 5 labels (all in gold) plus the sentinel class "unparseable" (F1 0), as
    // sklearn scores a null mapped to a sentinel label: (2/3 + 2/5 + 1/2 + 2/3 + 0 + 0)/6 = 0.372222
    expect(m.macro_f1).toBeCloseTo(2.2333333 / 6, 6);
    // weighted by gold support 3,2,3,1,1: (3·2/3 + 2·0.4 + 3·0.5 + 1·2/3 + 0)/10 = 4.966667/10
    expect(m.weighted_f1).toBeCloseTo(0.4966667, 6);

    // rows gold, cols pred, scheme order; the unparseable item is in no cell
    expect(m.confusion).toEqual([
      [2, 1, 0, 0, 0],
      [1, 1, 0, 0, 0],
      [0, 1, 1, 1, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(m.labels).toEqual(LREF5.labels);
  });

  it('never rewards breaking the output format: unparseable outputs lower macro-F1 and leave the optimistic share alone', () => {
    // A crafted "DPO that breaks the format": the start model over-grades 4 of 10 pairs; the broken
    // model writes no grade for 3 of those and for 1 correct pair. Under the old rules (no sentinel
    // class, unparseable in the error denominator) the broken model's optimistic share fell 100% → 20%.
    const gold = ['Significant', 'Significant', 'Marginal', 'Marginal', 'Trivial', 'Exact', 'Exact', 'Significant', 'Marginal', 'Trivial'];
    const start = ['Exact', 'Exact', 'Significant', 'Significant', 'Trivial', 'Exact', 'Exact', 'Significant', 'Marginal', 'Trivial'];
    const broken = [null, null, null, 'Significant', 'Trivial', 'Exact', null, 'Significant', 'Marginal', 'Trivial'];
    const a = computeMetrics('start', gold, start, LREF5);
    const b = computeMetrics('broken', gold, broken, LREF5);
    expect(a.optimistic_error_share).toBe(1);
    expect(b.optimistic_error_share).toBe(1); // its one parseable error is still optimistic
    expect(b.optimistic_rate).toBe(1 / 6);
    expect(b.unparseable).toBe(4);
    expect(b.unparseable_rate).toBe(0.4);
    expect(b.macro_f1).toBeLessThan(a.macro_f1);
    // sklearn: f1_score(gold, broken with None → 'UNPARSEABLE', average='macro'), labels = the 4 gold
    // grades + the sentinel. Exact P 1 R 1/2 F1 2/3; Significant P 1/2 R 1/3 F1 2/5; Marginal P 1
    // R 1/3 F1 1/2; Trivial F1 1; sentinel 0 → (2/3 + 2/5 + 1/2 + 1 + 0)/5 = 0.513333
    expect(b.macro_f1).toBeCloseTo(2.5666667 / 5, 6);
  });

  it('has no optimistic figures when nothing parses', () => {
    const m = computeMetrics('none', ['Exact', 'Trivial'], [null, null], LREF5);
    expect([m.accuracy, m.optimistic_rate, m.optimistic_error_share, m.unparseable_rate]).toEqual([0, 0, 0, 1]);
    expect(m.macro_f1).toBe(0);
  });

  it("matches sklearn's f1_score documentation example", () => {
    // sklearn docs: y_true = [0,1,2,0,1,2], y_pred = [0,2,1,0,0,1]
    //   f1_score(average='macro') = 0.26666…, average='weighted' = 0.26666…
    // By hand with 0=Exact, 1=Partial, 2=Irrelevant:
    //   class 0: predicted at 0,3,4 (tp 2) → P = 2/3, R = 2/2 = 1, F1 = 2·(2/3)/(5/3) = 0.8
    //   class 1: predicted at 2,5 (tp 0) → F1 0;  class 2: predicted at 1 (tp 0) → F1 0
    //   macro = 0.8/3 = 0.266667; weighted = (2·0.8 + 2·0 + 2·0)/6 = 0.266667; accuracy = 2/6
    const L = WANDS3.labels;
    const toL = (xs: number[]) => xs.map((x) => L[x]);
    const m = computeMetrics('sk', toL([0, 1, 2, 0, 1, 2]), toL([0, 2, 1, 0, 0, 1]), WANDS3);
    expect(m.macro_f1).toBeCloseTo(0.2666667, 6);
    expect(m.weighted_f1).toBeCloseTo(0.2666667, 6);
    expect(m.accuracy).toBeCloseTo(1 / 3, 12);
  });

  it('averages macro-F1 over gold ∪ pred like sklearn (a label only predicted counts as 0)', () => {
    // gold [E, E, S], pred [E, M, S]; labels in gold ∪ pred = {Exact, Significant, Marginal};
    // Trivial and Irrelevant appear nowhere and are left out.
    //   Exact: P 1/1, R 1/2 → F1 2/3;  Significant: P 1, R 1 → F1 1;  Marginal: P 0/1, no support → F1 0
    //   sklearn f1_score(['E','E','S'], ['E','M','S'], average='macro') = (2/3 + 1 + 0)/3 = 0.555556
    //   average='weighted' = (2·2/3 + 1·1 + 0·0)/3 = 7/9 = 0.777778
    const m = computeMetrics('union', ['Exact', 'Exact', 'Significant'], ['Exact', 'Marginal', 'Significant'], LREF5);
    expect(m.macro_f1).toBeCloseTo(5 / 9, 12);
    expect(m.weighted_f1).toBeCloseTo(7 / 9, 12);
    expect(m.per_class.Marginal).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // the one error (Exact → Marginal) grades less relevant than gold: pessimistic
    expect(m.optimistic_error_share).toBe(0);
    expect(m.pessimistic_error_share).toBe(1);
  });

  it('gives 0 error shares when there are no errors', () => {
    const m = computeMetrics('perfect', ['Exact', 'Trivial'], ['Exact', 'Trivial'], LREF5);
    expect([m.accuracy, m.macro_f1, m.weighted_f1, m.optimistic_error_share, m.pessimistic_error_share]).toEqual([1, 1, 1, 0, 0]);
  });

  it('rejects mismatched lengths, empty input and labels outside the scheme', () => {
    expect(() => computeMetrics('x', ['Exact'], [], LREF5)).toThrow(/1 gold labels but 0 predictions/);
    expect(() => computeMetrics('x', [], [], LREF5)).toThrow(/no predictions/);
    expect(() => computeMetrics('x', ['Exact'], ['Partial'], LREF5)).toThrow(/"Partial" is not in scheme lref5/);
  });
});

describe('macroF1FromCounts', () => {
  it('averages F1 over classes present in gold or prediction', () => {
    // class 0: tp 2, gold 3, pred 2 → 0.8; class 1: tp 1, gold 1, pred 2 → 2/3; class 2 absent
    expect(macroF1FromCounts([2, 1, 0], [3, 1, 0], [2, 2, 0])).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
  });
});
