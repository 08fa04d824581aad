/**
 * Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009)
 * over the search words of core/text/words.ts.
 *
 *   score(q, d) = Σ_{t ∈ q} idf(t) · tf(t,d)·(k1 + 1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
 *   idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
 *
 * k1 = 1.2 and b = 0.75 are the textbook defaults (Lucene and Elasticsearch use the same): k1 sets
 * how fast repeated terms saturate, b how much long documents are discounted. The idf is Lucene's
 * "+1 inside the log" variant, not the original RSJ weight ln((N − df + 0.5)/(df + 0.5)): the
 * original goes negative for terms in more than half the documents, and a product title matching
 * a common query word should never score *below* one that misses it.
 * Query terms count once each (a query says "red red shoes" rarely and means nothing more by it).
 */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export interface Bm25Params {
  k1: number;
  b: number;
}
export const BM25_DEFAULTS: Bm25Params = { k1: BM25_K1, b: BM25_B };

/** Corpus statistics: everything BM25 needs besides the query and the document. */
export interface Bm25Stats {
  nDocs: number;
  avgDocLen: number;
  /** document frequency: in how many documents each term occurs */
  df: Map<string, number>;
}

/** Statistics of a corpus of tokenised documents. */
export function bm25Stats(docs: readonly (readonly string[])[]): Bm25Stats {
  const df = new Map<string, number>();
  let totalLen = 0;
  for (const doc of docs) {
    totalLen += doc.length;
    for (const t of new Set(doc)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  return { nDocs: docs.length, avgDocLen: docs.length ? totalLen / docs.length : 0, df };
}

export function idf(stats: Bm25Stats, term: string): number {
  const df = stats.df.get(term) ?? 0;
  return Math.log(1 + (stats.nDocs - df + 0.5) / (df + 0.5));
}

/** BM25 of a tokenised query against one tokenised document. */
export function bm25(stats: Bm25Stats, query: readonly string[], doc: readonly string[], params: Bm25Params = BM25_DEFAULTS): number {
  const { k1, b } = params;
  const tf = new Map<string, number>();
  for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
  // avgDocLen 0 only for an all-empty corpus; treat every document as average length then.
  const lenNorm = stats.avgDocLen > 0 ? doc.length / stats.avgDocLen : 1;
  let score = 0;
  for (const t of new Set(query)) {
    const f = tf.get(t);
    if (!f) continue;
    score += (idf(stats, t) * f * (k1 + 1)) / (f + k1 * (1 - b + b * lenNorm));
  }
  return score;
}

/**
 * The supremum of bm25() for this query over all documents: each term's saturation factor tends to
 * (k1 + 1) as tf grows. Dividing by it puts BM25 on a [0, 1) scale comparable across queries of
 * different length and rarity — needed because the baseline grades with fixed thresholds.
 */
export function bm25UpperBound(stats: Bm25Stats, query: readonly string[], params: Bm25Params = BM25_DEFAULTS): number {
  let sum = 0;
  for (const t of new Set(query)) sum += idf(stats, t) * (params.k1 + 1);
  return sum;
}
