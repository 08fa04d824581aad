import { describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import { computeMetrics } from '../eval/metrics.ts';
import { groupedBars, metricsRows, pct } from './report.ts';

describe('metricsRows', () => {
  it('one row per record, fractions as percent with two decimals, counts as counts', () => {
    const gold = ['Exact', 'Exact', 'Marginal', 'Trivial'];
    // one right, one pessimistic (Exact→Marginal), two optimistic (Marginal→Exact, Trivial→Significant)
    const m = computeMetrics('sft', gold, ['Exact', 'Marginal', 'Exact', 'Significant'], LREF5);
    expect(metricsRows([m])).toEqual([
      { variant: 'sft', macro_f1: pct(m.macro_f1), weighted_f1: pct(m.weighted_f1), accuracy: 25, optimistic_rate: 50, optimistic_error_share: 66.67, unparseable: 0, n: 4 },
    ]);
    expect(metricsRows([m], 'template')[0].template).toBe('sft');
    expect(pct(0.123456)).toBe(12.35);
  });
});

describe('groupedBars', () => {
  const rows = [
    { variant: 'sft_all', macro_f1: 40, accuracy: 55, note: 'x' },
    { variant: '+dpo', macro_f1: 52.5, accuracy: NaN },
  ];

  it('melts rows to one bar per measure, groups in first-seen order, skips non-numbers', () => {
    const spec = groupedBars(rows, { x: 'variant', measures: ['macro_f1', 'accuracy'], title: 'F1', domain: [0, 100] });
    expect((spec.data as { values: unknown[] }).values).toEqual([
      { variant: 'sft_all', measure: 'macro_f1', value: 40 },
      { variant: 'sft_all', measure: 'accuracy', value: 55 },
      { variant: '+dpo', measure: 'macro_f1', value: 52.5 },
    ]);
    const enc = spec.encoding as Record<string, Record<string, unknown>>;
    expect(enc.x.sort).toEqual(['sft_all', '+dpo']);
    expect(enc.xOffset.sort).toEqual(['macro_f1', 'accuracy']);
    expect(enc.y.scale).toEqual({ domain: [0, 100] });
    expect(spec.mark).toBe('bar');
    expect(spec.title).toBe('F1');
    expect(spec.resolve).toBeUndefined();
  });

  it('splits into panels with their own x axes when a column field is given', () => {
    const sliced = [
      { slice_by: 'query_freq', slice: 'head', accuracy: 60 },
      { slice_by: 'intent', slice: 'negation', accuracy: 30 },
    ];
    const spec = groupedBars(sliced, { x: 'slice', measures: ['accuracy'], column: 'slice_by' });
    expect((spec.data as { values: unknown[] }).values).toEqual([
      { slice: 'head', slice_by: 'query_freq', measure: 'accuracy', value: 60 },
      { slice: 'negation', slice_by: 'intent', measure: 'accuracy', value: 30 },
    ]);
    expect((spec.encoding as Record<string, unknown>).column).toEqual({ field: 'slice_by', type: 'nominal', title: null });
    expect(spec.resolve).toEqual({ scale: { x: 'independent' } });
  });
});
