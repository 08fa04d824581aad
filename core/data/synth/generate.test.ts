import { describe, expect, it } from 'vitest';
import { PairRecord } from '../schema.ts';
import { generateDataset, toJsonl } from './generate.ts';
import { DEFAULT_LABEL_MIX } from './mix.ts';
import { extractFacts, parseQuery } from './parse.ts';
import { INTENTS } from './queries.ts';
import { gradePair } from './rules.ts';
import { LREF5_LABELS } from './types.ts';

const data = generateDataset({ pairs: 5000, seed: 11, noise: 0.1 });

describe('generateDataset', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const again = generateDataset({ pairs: 5000, seed: 11, noise: 0.1 });
    expect(toJsonl(again.pairs)).toBe(toJsonl(data.pairs));
    const other = generateDataset({ pairs: 5000, seed: 12, noise: 0.1 });
    expect(toJsonl(other.pairs)).not.toBe(toJsonl(data.pairs));
  });

  it('writes valid canonical records with the fields the brief asks for', () => {
    expect(data.pairs).toHaveLength(5000);
    expect(data.cleanLabels).toHaveLength(5000);
    const invalid = data.pairs.filter((p) => !PairRecord.safeParse(p).success);
    expect(invalid).toEqual([]);
    expect(data.pairs.every((p) => p.brand && p.category && p.description && p.query_freq && p.intent)).toBe(true);
    expect(new Set(data.pairs.map((p) => p.pair_id)).size).toBe(5000);
    expect(data.scheme).toBe('lref5');
  });

  it('hits the default label mix within 3 points, with every grade and every intent present', () => {
    for (const g of LREF5_LABELS) {
      const share = data.cleanLabels.filter((l) => l === g).length / data.cleanLabels.length;
      expect(Math.abs(share - DEFAULT_LABEL_MIX[g]), g).toBeLessThan(0.03);
    }
    const intents = new Set(data.pairs.map((p) => p.intent));
    for (const i of INTENTS) expect(intents.has(i), i).toBe(true);
    expect(new Set(data.pairs.map((p) => p.query_freq))).toEqual(new Set(['head', 'torso', 'tail']));
  });

  it('honours a custom label mix', () => {
    const mix = { Exact: 0.3, Significant: 0.2, Marginal: 0.2, Trivial: 0.2, Irrelevant: 0.1 };
    const d = generateDataset({ pairs: 4000, seed: 5, noise: 0, labelMix: mix });
    const exact = d.cleanLabels.filter((l) => l === 'Exact').length / d.cleanLabels.length;
    expect(Math.abs(exact - 0.3)).toBeLessThan(0.03);
    expect(d.pairs.map((p) => p.label)).toEqual(d.cleanLabels); // noise 0 keeps the rule labels
  });

  it('gives every query at least one pair; head queries get many pairs each, tail few', () => {
    const perQuery = new Map<string, number>();
    for (const p of data.pairs) perQuery.set(p.query_id, (perQuery.get(p.query_id) ?? 0) + 1);
    expect(perQuery.size).toBe(data.queries.length);
    for (const q of data.queries) expect(perQuery.get(q.id) ?? 0).toBeGreaterThan(0);
    const mean = (f: string) => {
      const qs = data.queries.filter((q) => q.freq === f);
      return qs.reduce((a, q) => a + perQuery.get(q.id)!, 0) / qs.length;
    };
    expect(mean('head')).toBeGreaterThan(15);
    expect(mean('tail')).toBeLessThan(5);
    // one query text ↔ one query id
    expect(new Set(data.queries.map((q) => q.text)).size).toBe(data.queries.length);
  });

  it('applies noise at the requested rate, to neighbouring grades only', () => {
    const changed = data.pairs.filter((p, i) => p.label !== data.cleanLabels[i]);
    expect(Math.abs(changed.length / data.pairs.length - 0.1)).toBeLessThan(0.02);
    const jumps = data.pairs.map((p, i) => Math.abs(LREF5_LABELS.indexOf(p.label as never) - LREF5_LABELS.indexOf(data.cleanLabels[i])));
    expect(Math.max(...jumps)).toBe(1);
  });

  it('labels are decidable from the visible text: the rules on parsed query + listing reproduce ≥ 99% of clean labels', () => {
    const vocab = data.catalogue.vocab;
    let same = 0;
    data.pairs.forEach((p, i) => {
      const facts = extractFacts(p.title, vocab, { brand: p.brand, attributes: p.attributes });
      if (gradePair(parseQuery(p.query, vocab), facts, vocab).label === data.cleanLabels[i]) same++;
    });
    expect(same / data.pairs.length).toBeGreaterThanOrEqual(0.99);
  });

  it('reuses catalogue products across queries', () => {
    const queriesPerProduct = new Map<string, Set<string>>();
    for (const p of data.pairs) queriesPerProduct.set(p.product_id, (queriesPerProduct.get(p.product_id) ?? new Set()).add(p.query_id));
    const shared = [...queriesPerProduct.values()].filter((s) => s.size > 1).length;
    expect(shared).toBeGreaterThan(200);
  });

  it('generates 5,000 pairs in well under a second', () => {
    const t0 = performance.now();
    generateDataset({ pairs: 5000, seed: 99, noise: 0.1 });
    // 1 s is the goal on a quiet machine; the bound leaves room for a shared, busy CI box.
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
