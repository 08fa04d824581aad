import { describe, expect, it } from 'vitest';
import type { PairRecord } from './schema.ts';
import { assignQueryFreq, freqShares, queryFreqBuckets } from './query-freq.ts';
import { sampleBalanced } from './split.ts';
import { Rng } from '../util/rng.ts';

/** n pairs for each query: {a: 5} → 5 pairs of query "a". */
function pairsFor(counts: Record<string, number>): PairRecord[] {
  const out: PairRecord[] = [];
  for (const [q, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) out.push({ pair_id: `${q}-${i}`, query_id: `id-${q}`, query: q, product_id: `p${i}`, title: 't', label: 'Exact' });
  }
  return out;
}

describe('queryFreqBuckets', () => {
  it('bands queries by frequency rank: the most frequent 10% head, the next 30% torso, the rest tail', () => {
    // 20 queries: q00 has 30 pairs, q01 20, q02..q07 10 each, q08..q19 one each.
    // Strictly more frequent than: q00 0 (0%) → head; q01 1 (5%) → head; q02..q07 2 (10%) → torso;
    // q08..q19 8 (40%) → tail. The one-pair queries are 60% of the queries but 12 of 110 pairs.
    const counts: Record<string, number> = { q00: 30, q01: 20 };
    for (let i = 2; i < 8; i++) counts[`q0${i}`] = 10;
    for (let i = 8; i < 20; i++) counts[`q${String(i).padStart(2, '0')}`] = 1;
    const b = queryFreqBuckets(pairsFor(counts));
    const band = (q: string) => b.get(`id-${q}`);
    expect([band('q00'), band('q01')]).toEqual(['head', 'head']);
    for (let i = 2; i < 8; i++) expect(band(`q0${i}`)).toBe('torso');
    for (let i = 8; i < 20; i++) expect(band(`q${String(i).padStart(2, '0')}`)).toBe('tail');
    // Not thirds of the pairs: head holds 50/110 pairs, tail 12/110.
    const shares = freqShares(assignQueryFreq(pairsFor(counts)));
    expect(shares.map((s) => [s.bucket, s.queries, s.pairs])).toEqual([
      ['head', 2, 50],
      ['torso', 6, 60],
      ['tail', 12, 12],
    ]);
  });

  it('keeps queries of equal frequency in one band, whatever the input order', () => {
    const counts = { z: 3, y: 3, x: 3, w: 1 }; // x, y, z: none more frequent → head; w: 3 of 4 above → tail
    const forward = queryFreqBuckets(pairsFor(counts));
    const backward = queryFreqBuckets(pairsFor(counts).reverse());
    expect(Object.fromEntries(forward)).toEqual({ 'id-x': 'head', 'id-y': 'head', 'id-z': 'head', 'id-w': 'tail' });
    expect(Object.fromEntries(backward)).toEqual(Object.fromEntries(forward));
  });

  it('makes a CI sample balanced over the bands differ from a random one', () => {
    // The point of the bands: with thirds of pairs a balanced sample was a random sample. Here the
    // tail holds 12/110 pairs, so a balanced sample of 30 takes 10 of them (a random one ~3).
    const counts: Record<string, number> = { q00: 30, q01: 20 };
    for (let i = 2; i < 8; i++) counts[`q0${i}`] = 10;
    for (let i = 8; i < 20; i++) counts[`q${String(i).padStart(2, '0')}`] = 1;
    const pairs = assignQueryFreq(pairsFor(counts));
    const s = sampleBalanced(pairs, 'query_freq', 30, new Rng(1));
    expect(s.filter((p) => p.query_freq === 'tail')).toHaveLength(10);
  });
});

describe('assignQueryFreq and freqShares', () => {
  it('fills query_freq, keeps existing values, and reports shares of pairs', () => {
    const pairs = pairsFor({ a: 4, b: 3, c: 2, d: 1, e: 1, f: 1 }); // 6 queries: a head (none above), b, c torso (1, 2 of 6 above), d–f tail (3 of 6)
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
