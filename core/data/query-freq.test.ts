import { describe, expect, it } from 'vitest';
import type { PairRecord } from './schema.ts';
import { assignQueryFreq, freqShares, queryFreqBuckets } from './query-freq.ts';

/** n pairs for each query: {a: 5} → 5 pairs of query "a". */
function pairsFor(counts: Record<string, number>): PairRecord[] {
  const out: PairRecord[] = [];
  for (const [q, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) out.push({ pair_id: `${q}-${i}`, query_id: `id-${q}`, query: q, product_id: `p${i}`, title: 't', label: 'Exact' });
  }
  return out;
}

describe('queryFreqBuckets', () => {
  it('puts the most frequent queries covering the first third of pairs in head, the next third in torso', () => {
    // 30 pairs: a(10) covers the first third → head; b(6)+c(4) start before 20 → torso; the rest tail
    const b = queryFreqBuckets(pairsFor({ f: 2, a: 10, c: 4, b: 6, d: 3, e: 3, g: 1, h: 1 }));
    expect(Object.fromEntries(b)).toEqual({
      'id-a': 'head',
      'id-b': 'torso',
      'id-c': 'torso',
      'id-d': 'tail',
      'id-e': 'tail',
      'id-f': 'tail',
      'id-g': 'tail',
      'id-h': 'tail',
    });
  });

  it('breaks ties by query text, so input order does not matter', () => {
    const counts = { z: 3, y: 3, x: 3 }; // 9 pairs: x is head, y torso, z tail
    const forward = queryFreqBuckets(pairsFor(counts));
    const backward = queryFreqBuckets(pairsFor(counts).reverse());
    expect(Object.fromEntries(forward)).toEqual({ 'id-x': 'head', 'id-y': 'torso', 'id-z': 'tail' });
    expect(Object.fromEntries(backward)).toEqual(Object.fromEntries(forward));
  });
});

describe('assignQueryFreq and freqShares', () => {
  it('fills query_freq, keeps existing values, and reports shares of pairs', () => {
    const pairs = pairsFor({ a: 4, b: 3, c: 2, d: 1, e: 1, f: 1 }); // 12 pairs: a head, b+c torso? b starts at 4 ≥ 12/3 → torso
    pairs[pairs.length - 1] = { ...pairs[pairs.length - 1], query_freq: 'head' }; // f's one pair says head
    const out = assignQueryFreq(pairs);
    expect(out.map((p) => p.query_freq).join(',')).toBe('head,head,head,head,torso,torso,torso,torso,torso,tail,tail,head');
    expect(pairs[0].query_freq).toBeUndefined(); // input untouched
    const shares = freqShares(out);
    expect(shares).toEqual([
      { bucket: 'head', queries: 2, pairs: 5, share: 5 / 12 },
      { bucket: 'torso', queries: 2, pairs: 5, share: 5 / 12 },
      { bucket: 'tail', queries: 2, pairs: 2, share: 2 / 12 },
    ]);
  });

  it('lists pairs without query_freq as unknown', () => {
    const shares = freqShares(pairsFor({ a: 2 }));
    expect(shares.find((s) => s.bucket === 'unknown')).toEqual({ bucket: 'unknown', queries: 1, pairs: 2, share: 1 });
  });
});
