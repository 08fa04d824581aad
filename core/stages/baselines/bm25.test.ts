import { describe, expect, it } from 'vitest';
import { tokenize } from '../../text/words.ts';
import { bm25, bm25Stats, bm25UpperBound, idf } from './bm25.ts';

/*
 * A hand-computed example (k1 = 1.2, b = 0.75).
 *   d1 = "red shoe"           len 2
 *   d2 = "red red sock"       len 3
 *   d3 = "blue shoe lace kit" len 4
 *   N = 3, avgdl = (2 + 3 + 4) / 3 = 3
 *   df: red 2, shoe 2, sock 1, blue 1, lace 1, kit 1
 *   idf(red) = idf(shoe) = ln(1 + (3 − 2 + 0.5)/(2 + 0.5)) = ln(1.6) = 0.4700036292
 *   idf(sock)            = ln(1 + (3 − 1 + 0.5)/(1 + 0.5)) = ln(8/3) = 0.9808292530
 *   length factor K(d) = k1·(1 − b + b·len/avgdl):
 *     K(d1) = 1.2·(0.25 + 0.75·2/3) = 0.9;  K(d2) = 1.2·(0.25 + 0.75) = 1.2;  K(d3) = 1.2·(0.25 + 1) = 1.5
 * query "red shoes" → [red, shoe]:
 *   d1: red tf 1 → 1·2.2/(1 + 0.9) = 1.1578947; shoe the same → 2 · ln1.6 · 2.2/1.9 = 1.0884294572
 *   d2: red tf 2 → 2·2.2/(2 + 1.2) = 1.375; no shoe  →     ln1.6 · 1.375   = 0.6462549902
 *   d3: shoe tf 1 → 2.2/(1 + 1.5) = 0.88; no red      →     ln1.6 · 0.88    = 0.4136031937
 * query "sock" against d2: ln(8/3) · 2.2/(1 + 1.2) = 0.9808292530
 * upper bound for "red shoes": 2 · ln1.6 · (k1 + 1) = 2.0680159687
 */
describe('bm25', () => {
  const docs = ['red shoe', 'red red sock', 'blue shoe lace kit'].map(tokenize);
  const stats = bm25Stats(docs);

  it('computes corpus statistics', () => {
    expect(stats.nDocs).toBe(3);
    expect(stats.avgDocLen).toBe(3);
    expect(Object.fromEntries(stats.df)).toEqual({ red: 2, shoe: 2, sock: 1, blue: 1, lace: 1, kit: 1 });
    expect(idf(stats, 'red')).toBeCloseTo(0.4700036292, 9);
    expect(idf(stats, 'sock')).toBeCloseTo(0.980829253, 9);
    // an unseen term: df 0 → ln(1 + 3.5/0.5) = ln 8
    expect(idf(stats, 'zebra')).toBeCloseTo(Math.log(8), 12);
  });

  it('matches the hand computation', () => {
    const q = tokenize('red shoes');
    expect(bm25(stats, q, docs[0])).toBeCloseTo(1.0884294572, 9);
    expect(bm25(stats, q, docs[1])).toBeCloseTo(0.6462549902, 9);
    expect(bm25(stats, q, docs[2])).toBeCloseTo(0.4136031937, 9);
    expect(bm25(stats, tokenize('sock'), docs[1])).toBeCloseTo(0.980829253, 9);
    expect(bm25(stats, tokenize('red red shoe'), docs[0])).toBeCloseTo(1.0884294572, 9); // query terms count once
    expect(bm25(stats, tokenize('garden hose'), docs[0])).toBe(0);
    expect(bm25UpperBound(stats, q)).toBeCloseTo(2.0680159687, 9);
  });

  it('honours k1 and b: b = 0 ignores length, large k1 approaches raw tf·idf', () => {
    const q = tokenize('shoe');
    // b = 0: K = k1 for every doc, so d1 and d3 (both tf 1) score the same: ln1.6 · 2.2/2.2
    expect(bm25(stats, q, docs[0], { k1: 1.2, b: 0 })).toBeCloseTo(Math.log(1.6), 12);
    expect(bm25(stats, q, docs[2], { k1: 1.2, b: 0 })).toBeCloseTo(Math.log(1.6), 12);
    // k1 → ∞ with b = 0: tf·(k1+1)/(tf+k1) → tf, so d2's "red" (tf 2) scores ≈ 2·idf
    expect(bm25(stats, tokenize('red'), docs[1], { k1: 1e9, b: 0 })).toBeCloseTo(2 * Math.log(1.6), 6);
  });
});
