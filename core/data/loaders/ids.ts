import { createHash } from 'node:crypto';

/**
 * Stable ids for sources that have none (Home Depot and CrowdFlower have no query id; CrowdFlower
 * has no product id). An id is a hash of the normalised text, so the same query gets the same id in
 * every file and every run, and splits by query_id keep every spelling variant of it together.
 *
 * Normalisation is deliberately light: Unicode NFKC, trimmed, lower-cased. Internal whitespace is
 * kept as is, so "fence  mesh" and "fence mesh" stay two queries, as in the sources' own counts
 * (Home Depot: 11,795 distinct search terms).
 */
export function normaliseQuery(query: string): string {
  return query.normalize('NFKC').trim().toLowerCase();
}

/** 48 bits of SHA-1: collisions are negligible at millions of queries (32-bit FNV is not). */
function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 12);
}

export function queryIdFor(query: string): string {
  return `q_${shortHash(normaliseQuery(query))}`;
}

/** A product id from its title, for sources that identify products only by their text. */
export function productIdForTitle(title: string): string {
  return `p_${shortHash(title.normalize('NFKC').trim())}`;
}
