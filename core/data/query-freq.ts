import type { PairRecord, QueryFreq } from './schema.ts';

/**
 * Head / torso / tail by query frequency. LREF's challenge identifier (CI) is trained on a sample
 * balanced across head, torso and tail queries by traffic: a few frequent queries (head) and a long
 * tail of rare ones, each band getting a third of the sample, so CI sees rare queries far more often
 * than a random sample would show them — a pair CI gets right is learnable across the query range,
 * not only for the popular queries. Public data has no traffic counts, so the number of labelled
 * pairs a query has stands in for its frequency (annotators were given more products for popular
 * queries in these sets; a proxy that leans the right way, but a proxy).
 *
 * Bands are shares of *queries*, as traffic bands are (the generator draws 8% head, 30% torso, 62%
 * tail queries): rank queries by frequency, most first; a query is head when fewer than 10% of
 * queries are strictly more frequent than it, torso when fewer than 40%, else tail. Queries of equal
 * frequency share a band (so bands are approximate, and data in which every query is equally
 * frequent has only head: nothing to balance). Why not thirds of the pairs: a sample balanced over
 * bands that each hold a third of the pairs is just a random sample (issue 11 found exactly that
 * on Home Depot and CrowdFlower).
 */
export const FREQ_BUCKETS: readonly QueryFreq[] = ['head', 'torso', 'tail'];
/** Share of queries (most frequent first) that are head, and head + torso. */
export const FREQ_BAND_SHARES = { head: 0.1, torso: 0.4 } as const;

export function queryFreqBuckets(pairs: readonly PairRecord[]): Map<string, QueryFreq> {
  const counts = new Map<string, number>();
  for (const p of pairs) counts.set(p.query_id, (counts.get(p.query_id) ?? 0) + 1);
  const q = counts.size;
  // How many queries are strictly more frequent than a query with count c.
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const above = new Map<number, number>();
  sorted.forEach((c, i) => {
    if (!above.has(c)) above.set(c, i);
  });
  const out = new Map<string, QueryFreq>();
  for (const [id, c] of counts) {
    const share = above.get(c)! / q;
    out.set(id, share < FREQ_BAND_SHARES.head ? 'head' : share < FREQ_BAND_SHARES.torso ? 'torso' : 'tail');
  }
  return out;
}

/** Copies of the pairs with query_freq filled in; a pair that already has one keeps it. */
export function assignQueryFreq(pairs: readonly PairRecord[]): PairRecord[] {
  if (pairs.every((p) => p.query_freq !== undefined)) return pairs.slice();
  const buckets = queryFreqBuckets(pairs);
  return pairs.map((p) => (p.query_freq !== undefined ? p : { ...p, query_freq: buckets.get(p.query_id) }));
}

export interface FreqShare {
  bucket: QueryFreq | 'unknown';
  queries: number;
  pairs: number;
  /** share of pairs */
  share: number;
}

/** How many queries and pairs each bucket holds (pairs without query_freq count as "unknown"). */
export function freqShares(pairs: readonly PairRecord[]): FreqShare[] {
  const rows = new Map<string, { queries: Set<string>; pairs: number }>();
  for (const b of [...FREQ_BUCKETS, 'unknown']) rows.set(b, { queries: new Set(), pairs: 0 });
  for (const p of pairs) {
    const r = rows.get(p.query_freq ?? 'unknown')!;
    r.queries.add(p.query_id);
    r.pairs++;
  }
  return [...rows.entries()]
    .filter(([b, r]) => b !== 'unknown' || r.pairs > 0)
    .map(([bucket, r]) => ({
      bucket: bucket as FreqShare['bucket'],
      queries: r.queries.size,
      pairs: r.pairs,
      share: pairs.length ? r.pairs / pairs.length : 0,
    }));
}
