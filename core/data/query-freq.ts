import type { PairRecord, QueryFreq } from './schema.ts';

/**
 * Head / torso / tail by a proxy. LREF's challenge identifier (CI) is trained on a sample balanced
 * across head, torso and tail queries by traffic; public data has no traffic counts, so the number
 * of labelled pairs a query has stands in for its popularity (annotators were given more products
 * for popular queries in these sets, so the proxy leans the right way, but it is a proxy).
 *
 * Rule: rank queries by pair count, most first, ties by query text then query_id (deterministic).
 * Walking down the ranking, a query is head while the pairs *before* it are under 1/3 of all pairs,
 * torso while under 2/3, tail after. So head is the fewest, most frequent queries covering about the
 * first third of pairs, torso the next third, tail the rest. A single query never straddles buckets,
 * so shares are approximate.
 */
export const FREQ_BUCKETS: readonly QueryFreq[] = ['head', 'torso', 'tail'];

export function queryFreqBuckets(pairs: readonly PairRecord[]): Map<string, QueryFreq> {
  const counts = new Map<string, { n: number; query: string }>();
  for (const p of pairs) {
    const c = counts.get(p.query_id);
    if (c) c.n++;
    else counts.set(p.query_id, { n: 1, query: p.query });
  }
  const ranked = [...counts.entries()].sort(
    ([ida, a], [idb, b]) => b.n - a.n || cmp(a.query, b.query) || cmp(ida, idb),
  );
  const total = pairs.length;
  const out = new Map<string, QueryFreq>();
  let before = 0;
  for (const [id, { n }] of ranked) {
    out.set(id, before * 3 < total ? 'head' : before * 3 < 2 * total ? 'torso' : 'tail');
    before += n;
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

/** Code-unit order, not locale order: the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
