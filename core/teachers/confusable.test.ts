import { describe, expect, it } from 'vitest';
import { BINARY, ESCI4, GRADED4, LREF5, WANDS3 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { confusableLabel, explainConfusable, neighbourConfusable, ruleConfusableTeacher } from './confusable.ts';

/** A hand-made pair; the query and titles follow GRADING-RULES.md's running-shoe example. */
function pair(query: string, title: string, label: string, extra: Partial<PairRecord> = {}): PairRecord {
  return { pair_id: 'p1', query_id: 'q1', product_id: 'x1', query, title, label, ...extra };
}

const Q = 'nike running shoes women red';

describe('confusableLabel on LREF-5 by the rules', () => {
  it.each([
    ['Exact: a full match → Significant', pair(Q, "Nike Women's Running Shoe, Red", 'Exact'), 'Significant'],
    ['Significant: one differing secondary (colour) → Exact', pair(Q, "Nike Women's Running Shoe, Blue", 'Significant'), 'Exact'],
    ['Significant: one differing + one unverifiable secondary → Marginal', pair('red cotton t-shirt', 'Blue T-Shirt', 'Significant'), 'Marginal'],
    ['Marginal: one violated primary (brand) → Significant', pair(Q, "Adidas Women's Running Shoe, Red", 'Marginal'), 'Significant'],
    ['Marginal: two violated secondaries → Significant', pair('red cotton t-shirt', 'Blue Polyester T-Shirt', 'Marginal'), 'Significant'],
    ['Marginal: two violated primaries → Trivial', pair('cheap champion mens sweatshirts', "Gildan Women's Cotton Jumper", 'Marginal', { brand: 'Gildan' }), 'Trivial'],
    ['Marginal: substitute with modifiers met → Significant', pair(Q, "Nike Women's Walking Shoe, Red", 'Marginal'), 'Significant'],
    ['Marginal: substitute with unmet modifiers → Trivial', pair(Q, "Adidas Men's Walking Shoe, Blue", 'Marginal'), 'Trivial'],
    ['Trivial: accessory → Marginal', pair(Q, 'Running Shoe Insoles', 'Trivial'), 'Marginal'],
    ['Trivial: accessory (coffee filter for a coffee maker) → Marginal', pair('hamilton beach coffee maker', 'Melitta Coffee Filter - 200 Count', 'Trivial', { brand: 'Melitta' }), 'Marginal'],
    ['Irrelevant: unrelated type → Trivial', pair(Q, 'Kitchen Blender', 'Irrelevant'), 'Trivial'],
  ])('%s', (_name, p, expected) => {
    expect(confusableLabel(p, LREF5)).toBe(expected);
  });

  it('names the rule label when the annotation is one grade off the rules (the annotation looks like the slip)', () => {
    // The rules say Marginal (brand violated); a rater wrote Significant.
    const a = explainConfusable(pair(Q, "Adidas Women's Running Shoe, Red", 'Significant'), LREF5);
    expect(a).toEqual({ label: 'Marginal', why: 'the rules grade it Marginal: the annotation looks like the slip' });
  });

  it('falls back to the more relevant neighbour when the rules are two or more grades away or see no product type', () => {
    // the rules say Irrelevant for a blender; an annotation of Marginal is not a one-grade slip of that
    expect(explainConfusable(pair(Q, 'Kitchen Blender', 'Marginal'), LREF5).label).toBe('Significant');
    const unknown = explainConfusable(pair('zorblax quux', 'Florp Widget Deluxe', 'Trivial'), LREF5);
    expect(unknown).toEqual({ label: 'Marginal', why: 'neighbouring grade (the more relevant one)' });
    expect(confusableLabel(pair('zorblax quux', 'Florp Widget Deluxe', 'Exact'), LREF5)).toBe('Significant');
  });
});

describe('confusableLabel on other schemes: the neighbouring grade, the more relevant one first', () => {
  it.each([
    [ESCI4, 'E', 'S'],
    [ESCI4, 'C', 'S'],
    [ESCI4, 'I', 'C'],
    [WANDS3, 'Partial', 'Exact'],
    [BINARY, 'Relevant', 'Irrelevant'],
    [BINARY, 'Irrelevant', 'Relevant'],
    [GRADED4, '4', '3'],
    [GRADED4, '2', '3'],
  ])('%s: %s → %s', (scheme, gold, expected) => {
    // same text as an LREF-5 case: the rules are not consulted for another scheme
    expect(confusableLabel(pair(Q, "Adidas Women's Running Shoe, Red", gold), scheme)).toBe(expected);
    expect(neighbourConfusable(scheme, gold).label).toBe(expected);
  });

  it('rejects a label outside the scheme', () => {
    expect(() => confusableLabel(pair(Q, 'x', 'Exact'), ESCI4)).toThrow(/label "Exact" is not in scheme esci4/);
  });
});

describe('on generated data', () => {
  const ds = generateDataset({ pairs: 600, seed: 11, noise: 0.1 });

  it('always names another label of the scheme, the same one every time', () => {
    const first = ds.pairs.map((p) => confusableLabel(p, LREF5));
    const again = ds.pairs.map((p) => confusableLabel(p, LREF5));
    expect(again).toEqual(first);
    ds.pairs.forEach((p, i) => {
      expect(first[i]).not.toBe(p.label);
      expect(LREF5.labels).toContain(first[i]);
    });
  });

  it('the typical confusions: most Marginal → Significant, every Irrelevant → Trivial, every clean Exact → Significant', () => {
    const byGold = new Map<string, Map<string, number>>();
    ds.pairs.forEach((p, i) => {
      if (p.label !== ds.cleanLabels[i]) return; // noisy annotations name the rule label instead
      const row = byGold.get(p.label) ?? new Map<string, number>();
      const c = confusableLabel(p, LREF5);
      row.set(c, (row.get(c) ?? 0) + 1);
      byGold.set(p.label, row);
    });
    const share = (gold: string, to: string) => {
      const row = byGold.get(gold)!;
      return (row.get(to) ?? 0) / [...row.values()].reduce((a, b) => a + b, 0);
    };
    expect(share('Marginal', 'Significant')).toBeGreaterThan(0.5);
    expect(share('Irrelevant', 'Trivial')).toBe(1);
    expect(share('Exact', 'Significant')).toBe(1);
    expect(share('Significant', 'Exact')).toBeGreaterThan(0.5);
  });

  it('noisy annotations one grade off get the clean rule label back', () => {
    const noisy = ds.pairs.map((p, i) => ({ p, clean: ds.cleanLabels[i] })).filter(({ p, clean }) => p.label !== clean);
    expect(noisy.length).toBeGreaterThan(20);
    for (const { p, clean } of noisy) expect(confusableLabel(p, LREF5)).toBe(clean);
  });
});

describe('ruleConfusableTeacher', () => {
  it('answers for the requested gold label, not the pair’s own', async () => {
    const p = pair(Q, "Adidas Women's Running Shoe, Red", 'Marginal');
    expect(ruleConfusableTeacher.id).toBe('rules');
    expect(await ruleConfusableTeacher.confusableLabel({ pair: p, scheme: LREF5, gold: 'Marginal' })).toBe('Significant');
    expect(await ruleConfusableTeacher.confusableLabel({ pair: p, scheme: LREF5, gold: 'Significant' })).toBe('Marginal');
    expect(await ruleConfusableTeacher.confusableLabel({ pair: { ...p, label: 'E' }, scheme: ESCI4, gold: 'E' })).toBe('S');
  });
});
