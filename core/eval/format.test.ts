import { describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import { computeMetrics } from './metrics.ts';
import { formatMetricsTable, formatPerClass, formatConfusion } from './format.ts';

// gold [E, E, S, M], pred [E, S, E, M]: accuracy 2/4; errors E→S (pessimistic), S→E (optimistic)
//   Exact P 1/2 R 1/2 F1 .5; Significant P 0 R 0 F1 0; Marginal F1 1 → macro 1.5/3 = 50.00%
//   weighted (2·.5 + 1·0 + 1·1)/4 = 50.00%; opt-rate 1/4 = 25.00%; opt-share 1/2 = 50.00%
const a = computeMetrics('sft-all', ['Exact', 'Exact', 'Significant', 'Marginal'], ['Exact', 'Significant', 'Exact', 'Marginal'], LREF5);
// gold [E, T, I], pred [E, T, unparseable]: accuracy 2/3 = 66.67%; Irrelevant F1 0 and the
//   sentinel class "unparseable" F1 0 → macro (1 + 1 + 0 + 0)/4 = 50.00%
//   weighted (1 + 1 + 0)/3 = 66.67%; no optimistic errors
const b = computeMetrics('lref', ['Exact', 'Trivial', 'Irrelevant'], ['Exact', 'Trivial', null], LREF5);

describe('format', () => {
  it('prints variants as an aligned percent table', () => {
    expect(formatMetricsTable([a])).toBe(
      [
        'variant  macro-F1  weighted-F1    acc  opt-rate  opt-share  n',
        'sft-all     50.00        50.00  50.00     25.00      50.00  4',
      ].join('\n'),
    );
  });

  it('adds an unparsed column when any variant has unparseable predictions', () => {
    expect(formatMetricsTable([a, b])).toBe(
      [
        'variant  macro-F1  weighted-F1    acc  opt-rate  opt-share  n  unparsed',
        'sft-all     50.00        50.00  50.00     25.00      50.00  4         0',
        'lref        50.00        66.67  66.67      0.00       0.00  3         1',
      ].join('\n'),
    );
  });

  it('prints per-class figures and the confusion matrix in scheme order', () => {
    expect(formatPerClass(a).split('\n').slice(0, 3)).toEqual([
      'label        precision  recall      F1  support',
      'Exact            50.00   50.00   50.00        2',
      'Significant       0.00    0.00    0.00        1',
    ]);
    expect(formatConfusion(a).split('\n').slice(0, 3)).toEqual([
      'gold \\ pred  Exact  Significant  Marginal  Trivial  Irrelevant',
      'Exact            1            1         0        0           0',
      'Significant      1            0         0        0           0',
    ]);
  });
});
