import { describe, expect, it } from 'vitest';
import { LREF5, WANDS3 } from '../data/labels.ts';
import { computeMetrics, MetricsRecord } from './metrics.ts';

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

    // accuracy 5/10; errors 5 (2 optimistic, 2 pessimistic, 1 unparseable)
    expect(m.accuracy).toBe(0.5);
    expect(m.optimistic_rate).toBe(0.2); // 2/10
    expect(m.optimistic_error_share).toBe(0.4); // 2/5
    expect(m.pessimistic_rate).toBe(0.2);
    expect(m.pessimistic_error_share).toBe(0.4);
    expect(m.unparseable).toBe(1);
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

    // macro over all 5 labels (all in gold): (2/3 + 2/5 + 1/2 + 2/3 + 0)/5 = 2.23333/5 = 0.446667
    expect(m.macro_f1).toBeCloseTo(0.4466667, 6);
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
