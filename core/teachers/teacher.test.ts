import { describe, expect, it } from 'vitest';
import { BINARY, GRADED4, LREF5, WANDS3 } from '../data/labels.ts';
import { Rng } from '../util/rng.ts';
import { parseLabel, sampleWrongLabel } from './teacher.ts';

function tally(scheme: typeof LREF5, gold: string, n: number, seed = 7): Record<string, number> {
  const rng = new Rng(seed);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const w = sampleWrongLabel(scheme, gold, rng);
    counts[w] = (counts[w] ?? 0) + 1;
  }
  return counts;
}

describe('sampleWrongLabel', () => {
  it('mostly picks the optimistic neighbour, then the pessimistic one, rarely farther grades, never gold', () => {
    const c = tally(LREF5, 'Marginal', 20_000);
    expect(c.Marginal).toBeUndefined();
    // expected shares 0.6 / 0.25 / 0.075 / 0.075
    expect(c.Significant / 20_000).toBeCloseTo(0.6, 1);
    expect(c.Trivial / 20_000).toBeCloseTo(0.25, 1);
    expect(c.Exact / 20_000).toBeCloseTo(0.075, 1);
    expect(c.Irrelevant / 20_000).toBeCloseTo(0.075, 1);
    expect(c.Significant).toBeGreaterThan(2 * c.Trivial);
  });

  it('renormalises at the ends of the scale', () => {
    // Exact has no optimistic neighbour: Significant 0.25 vs farther 0.15 → 0.625 / 0.375.
    const top = tally(LREF5, 'Exact', 20_000);
    expect(top.Exact).toBeUndefined();
    expect(top.Significant / 20_000).toBeCloseTo(0.625, 1);
    // Irrelevant: Trivial 0.6 vs farther 0.15 → 0.8 / 0.2
    const bottom = tally(LREF5, 'Irrelevant', 20_000);
    expect(bottom.Trivial / 20_000).toBeCloseTo(0.8, 1);
    expect(tally(BINARY, 'Relevant', 50)).toEqual({ Irrelevant: 50 });
    expect(tally(WANDS3, 'Irrelevant', 1000).Partial).toBeGreaterThan(700);
  });

  it('is reproducible from the seed', () => {
    const a = new Rng(3);
    const b = new Rng(3);
    const xs = Array.from({ length: 50 }, () => sampleWrongLabel(GRADED4, '2', a));
    expect(Array.from({ length: 50 }, () => sampleWrongLabel(GRADED4, '2', b))).toEqual(xs);
  });

  it('rejects a gold label outside the scheme', () => {
    expect(() => sampleWrongLabel(LREF5, 'Perfect', new Rng(1))).toThrow(/label "Perfect" is not in scheme lref5/);
  });
});

describe('parseLabel', () => {
  it('reads a bare label, a sentence, and respects exclusion and word boundaries', () => {
    expect(parseLabel(LREF5, ' marginal. ')).toBe('Marginal');
    expect(parseLabel(LREF5, 'It is most easily confused with Trivial, not Marginal.')).toBe('Trivial');
    expect(parseLabel(LREF5, 'Significant or Marginal', 'Significant')).toBe('Marginal');
    expect(parseLabel(LREF5, 'Insignificant')).toBeUndefined();
    expect(parseLabel(GRADED4, 'Grade: 3')).toBe('3');
    expect(parseLabel(GRADED4, '**4**', '3')).toBe('4');
    expect(parseLabel(LREF5, 'none of them')).toBeUndefined();
  });
});
