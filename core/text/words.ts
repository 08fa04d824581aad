import type { PairRecord } from '../data/schema.ts';

// Search words: what BM25, the lexical baseline and a prompt's {match} line count as a query word.

/**
 * Lower-cases, splits on anything that is not a letter or digit, and strips plural endings:
 * "Batteries" → "battery", "boxes" → "box", "glasses" → "glass", "shoes" → "shoe", but "glass",
 * "bus", "this" and "3s" are left alone. Light on purpose: a full stemmer (Porter) merges words
 * product search keeps apart ("organic"/"organ").
 */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0)
    .map(stemPlural);
}

export function stemPlural(t: string): string {
  if (t.length <= 3 || /\d/.test(t)) return t;
  if (t.endsWith('ies') && t.length > 4) return `${t.slice(0, -3)}y`;
  if (t.endsWith('sses')) return t.slice(0, -2);
  if (/(?:ches|shes|xes|zzes)$/.test(t)) return t.slice(0, -2);
  if (t.endsWith('s') && !/(?:ss|us|is)$/.test(t)) return t.slice(0, -1);
  return t;
}

/** What a product shows a query's words against: title, brand, category and attribute values (not the description). */
export function productText(pair: Pick<PairRecord, 'title' | 'brand' | 'category' | 'attributes'>): string {
  return [pair.title, pair.brand ?? '', pair.category ?? '', ...Object.values(pair.attributes ?? {})].join(' ');
}

/** How many of the query's distinct words the title and the product text contain. */
export interface QueryCoverage {
  queryWords: number;
  inTitle: number;
  inProduct: number;
}

export function queryCoverage(pair: Pick<PairRecord, 'query' | 'title' | 'brand' | 'category' | 'attributes'>): QueryCoverage {
  const query = [...new Set(tokenize(pair.query))];
  const title = new Set(tokenize(pair.title));
  const product = new Set(tokenize(productText(pair)));
  return {
    queryWords: query.length,
    inTitle: query.filter((t) => title.has(t)).length,
    inProduct: query.filter((t) => product.has(t)).length,
  };
}
