import { getScheme } from './labels.ts';
import type { Dataset, PairRecord } from './schema.ts';
import { freqShares, type FreqShare } from './query-freq.ts';

/** What `lref data inspect` reports about a dataset: a first look before spending compute on it. */
export interface Summary {
  min: number;
  median: number;
  mean: number;
  max: number;
}

export interface DatasetStats {
  source: string;
  scheme: string;
  scheme_name: string;
  pairs: number;
  queries: number;
  products: number;
  /** in scheme order, best → worst */
  labels: { label: string; count: number; share: number }[];
  query_freq: FreqShare[];
  pairs_per_query: Summary;
  query_words: Summary;
  query_chars: Summary;
  title_words: Summary;
  title_chars: Summary;
  /** how many pairs carry each optional field */
  fields: Record<'brand' | 'category' | 'attributes' | 'description' | 'score' | 'intent' | 'rationales', number>;
}

export function inspectDataset(ds: Dataset): DatasetStats {
  const scheme = getScheme(ds.scheme);
  const { pairs } = ds;
  const perQuery = new Map<string, number>();
  const products = new Set<string>();
  const labelCount = new Map<string, number>(scheme.labels.map((l) => [l, 0]));
  const fields: DatasetStats['fields'] = { brand: 0, category: 0, attributes: 0, description: 0, score: 0, intent: 0, rationales: 0 };
  for (const p of pairs) {
    perQuery.set(p.query_id, (perQuery.get(p.query_id) ?? 0) + 1);
    products.add(p.product_id);
    labelCount.set(p.label, (labelCount.get(p.label) ?? 0) + 1);
    for (const f of Object.keys(fields) as (keyof typeof fields)[]) if (p[f] !== undefined) fields[f]++;
  }
  const share = (n: number) => (pairs.length ? n / pairs.length : 0);
  // Query length is measured once per query, title length once per pair (titles repeat less).
  const firstOfQuery = new Map<string, PairRecord>();
  for (const p of pairs) if (!firstOfQuery.has(p.query_id)) firstOfQuery.set(p.query_id, p);
  const queries = [...firstOfQuery.values()].map((p) => p.query);
  return {
    source: ds.source,
    scheme: scheme.id,
    scheme_name: scheme.name,
    pairs: pairs.length,
    queries: perQuery.size,
    products: products.size,
    labels: [...labelCount.entries()].map(([label, count]) => ({ label, count, share: share(count) })),
    query_freq: freqShares(pairs),
    pairs_per_query: summarise([...perQuery.values()]),
    query_words: summarise(queries.map(wordCount)),
    query_chars: summarise(queries.map((q) => q.length)),
    title_words: summarise(pairs.map((p) => wordCount(p.title))),
    title_chars: summarise(pairs.map((p) => p.title.length)),
    fields,
  };
}

function wordCount(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

/** min / median / mean / max; the median of an even count is the mean of the middle two. */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) return { min: 0, median: 0, mean: 0, max: 0 };
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  let sum = 0;
  for (const v of s) sum += v;
  return { min: s[0], median, mean: sum / s.length, max: s[s.length - 1] };
}

const int = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** A plain-text report: aligned columns, readable in a terminal and in a log. */
export function formatStats(st: DatasetStats): string {
  const out: string[] = [];
  out.push(`source    ${st.source}`);
  out.push(`scheme    ${st.scheme} (${st.scheme_name})`);
  out.push(`pairs     ${int(st.pairs)}`);
  out.push(`queries   ${int(st.queries)}`);
  out.push(`products  ${int(st.products)}`);
  out.push('');
  out.push(...table(['label', 'pairs', 'share'], st.labels.map((l) => [l.label, int(l.count), pct(l.share)])));
  out.push('');
  out.push(
    ...table(
      ['query freq', 'queries', 'pairs', 'share'],
      st.query_freq.map((f) => [f.bucket, int(f.queries), int(f.pairs), pct(f.share)]),
    ),
  );
  out.push('(head/torso/tail by pairs per query where the data has no bands: the most-labelled 10% of queries are head, the next 30% torso, the rest tail)');
  out.push('');
  const rows: [string, Summary][] = [
    ['pairs per query', st.pairs_per_query],
    ['query words', st.query_words],
    ['query chars', st.query_chars],
    ['title words', st.title_words],
    ['title chars', st.title_chars],
  ];
  out.push(...table(['', 'min', 'median', 'mean', 'max'], rows.map(([name, s]) => [name, num(s.min), num(s.median), num(s.mean), num(s.max)])));
  out.push('');
  const present = Object.entries(st.fields).map(([f, n]) => `${f} ${pct(st.pairs ? n / st.pairs : 0)}`);
  out.push(`optional fields present: ${present.join(', ')}`);
  return out.join('\n');
}

/** First column left-aligned, the rest right-aligned (they are numbers). */
function table(head: string[], rows: string[][]): string[] {
  const all = [head, ...rows];
  const width = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(width[c]) : cell.padStart(width[c]))).join('  ').trimEnd());
}
