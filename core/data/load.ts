import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { UserError, inputError } from '../util/errors.ts';
import { AtomicLineWriter } from '../util/atomic.ts';
import { sniffHeader } from './csv.ts';
import { SCHEMES, getScheme } from './labels.ts';
import type { Dataset, PairRecord } from './schema.ts';
import { assignQueryFreq } from './query-freq.ts';
import { readJsonlPairs } from './loaders/jsonl.ts';
import { ESCI_SCHEME, readEsci } from './loaders/esci.ts';
import { WANDS_FILES, WANDS_SCHEME, readWands } from './loaders/wands.ts';
import { HOMEDEPOT_SCHEME, readHomeDepot } from './loaders/homedepot.ts';
import { CROWDFLOWER_SCHEME, readCrowdFlower } from './loaders/crowdflower.ts';

/** The one entry point from a data file (any supported format) to canonical pairs. */
export const FORMATS = ['jsonl', 'esci', 'wands', 'homedepot', 'crowdflower'] as const;
export type DataFormat = (typeof FORMATS)[number];

export interface LoadOptions {
  /** skip detection */
  format?: DataFormat | string;
  /** ESCI: the products file to join by product_id */
  products?: string;
  /** jsonl: the label scheme, instead of inferring it from the labels */
  scheme?: string;
}

/** The label scheme each fixed format uses; jsonl's is inferred from its labels. */
const FORMAT_SCHEME: Readonly<Record<Exclude<DataFormat, 'jsonl'>, string>> = {
  esci: ESCI_SCHEME,
  wands: WANDS_SCHEME,
  homedepot: HOMEDEPOT_SCHEME,
  crowdflower: CROWDFLOWER_SCHEME,
};

export function parseFormat(format: string): DataFormat {
  if ((FORMATS as readonly string[]).includes(format)) return format as DataFormat;
  throw new UserError(`unknown data format "${format}"; known: ${FORMATS.join(', ')}`);
}

/**
 * Guesses the format from the path: a folder (or query/product/label.csv) is WANDS; JSONL is
 * canonical unless its first record has esci_label; a CSV/TSV is recognised by its header columns.
 */
export function detectFormat(path: string): DataFormat {
  if (!existsSync(path)) throw inputError(path, undefined, 'no such file or folder');
  if (statSync(path).isDirectory()) {
    if (WANDS_FILES.every((f) => existsSync(resolve(path, f)))) return 'wands';
    throw unknownFormat(path, `a folder without WANDS's ${WANDS_FILES.join(', ')}`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') {
    const first = firstJsonObject(path);
    if ('esci_label' in first) return 'esci';
    if ('pair_id' in first && 'label' in first) return 'jsonl';
    throw unknownFormat(path, `first record has keys ${Object.keys(first).join(', ')}`);
  }
  const { columns } = sniffHeader(path);
  const has = (...cs: string[]) => cs.every((c) => columns.includes(c));
  if (has('esci_label')) return 'esci';
  if (has('product_uid', 'search_term', 'relevance')) return 'homedepot';
  if (has('query', 'product_title', 'median_relevance')) return 'crowdflower';
  if ((WANDS_FILES as readonly string[]).includes(basename(path)) && (has('query_id', 'product_id', 'label') || has('product_name') || has('query_class'))) {
    return 'wands';
  }
  throw unknownFormat(path, `header columns: ${columns.join(', ') || '(none)'}`);
}

function unknownFormat(path: string, seen: string): UserError {
  return inputError(path, undefined, `cannot tell the data format (${seen}); pass --format, one of: ${FORMATS.join(', ')}`);
}

function firstJsonObject(path: string): Record<string, unknown> {
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(1 << 20);
    text = new TextDecoder().decode(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
  } finally {
    closeSync(fd);
  }
  const lines = text.split('\n');
  const k = lines.findIndex((l) => l.trim() !== '');
  if (k < 0) throw inputError(path, undefined, 'the file is empty');
  try {
    const v = JSON.parse(lines[k]) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw inputError(path, k + 1, 'expected a JSON object on this line');
}

/** Streams the pairs of a data file without holding them all (for large files). */
export function readPairs(path: string, opts: LoadOptions = {}): AsyncIterable<PairRecord> {
  const format = opts.format ? parseFormat(opts.format) : detectFormat(path);
  if (opts.products && format !== 'esci') throw new UserError(`--products applies to the esci format only (this is ${format})`);
  switch (format) {
    case 'jsonl':
      return readJsonlPairs(path);
    case 'esci':
      return readEsci(path, { products: opts.products });
    case 'wands':
      return readWands(path);
    case 'homedepot':
      return readHomeDepot(path);
    case 'crowdflower':
      return readCrowdFlower(path);
  }
}

/**
 * Loads a whole dataset: pairs (with query_freq assigned by the pair-count proxy where missing,
 * see query-freq.ts), the label scheme, and the source path for provenance.
 */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<Dataset> {
  const format = opts.format ? parseFormat(opts.format) : detectFormat(path);
  const pairs: PairRecord[] = [];
  const ids = new Set<string>();
  for await (const p of readPairs(path, { ...opts, format })) {
    if (ids.has(p.pair_id)) throw inputError(path, undefined, `duplicate pair_id "${p.pair_id}" (pair ${pairs.length + 1})`);
    ids.add(p.pair_id);
    pairs.push(p);
  }
  if (pairs.length === 0) throw inputError(path, undefined, 'no pairs in the file');
  const labels = new Set(pairs.map((p) => p.label));
  let scheme: string;
  if (format === 'jsonl') scheme = opts.scheme ? checkScheme(path, opts.scheme, labels) : inferScheme(path, labels);
  else {
    scheme = FORMAT_SCHEME[format];
    if (opts.scheme && opts.scheme !== scheme) throw new UserError(`the ${format} format's labels are scheme ${scheme}; --scheme ${opts.scheme} does not apply`);
  }
  return { pairs: assignQueryFreq(pairs), scheme, source: resolve(path) };
}

/** The first scheme (LREF-5 first) whose labels include every label used. */
export function inferScheme(path: string, labels: ReadonlySet<string>): string {
  const order = ['lref5', ...Object.keys(SCHEMES).filter((s) => s !== 'lref5')];
  const fit = order.find((s) => [...labels].every((l) => SCHEMES[s].labels.includes(l)));
  if (fit) return fit;
  const known = order.map((s) => `${s} (${SCHEMES[s].labels.join(', ')})`).join('; ');
  throw inputError(path, undefined, `labels ${[...labels].sort().join(', ')} do not all belong to one label scheme; known schemes: ${known}`);
}

function checkScheme(path: string, id: string, labels: ReadonlySet<string>): string {
  const scheme = getScheme(id);
  const bad = [...labels].filter((l) => !scheme.labels.includes(l));
  if (bad.length) throw inputError(path, undefined, `labels ${bad.join(', ')} are not in scheme ${id} (${scheme.labels.join(', ')})`);
  return id;
}

/** Writes pairs as canonical JSONL, atomically (readers never see half a file). Returns the count. */
export async function writePairsJsonl(path: string, pairs: Iterable<PairRecord> | AsyncIterable<PairRecord>): Promise<number> {
  const w = new AtomicLineWriter(path);
  let n = 0;
  try {
    for await (const p of pairs) {
      w.writeLine(JSON.stringify(p));
      n++;
    }
    w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  return n;
}
