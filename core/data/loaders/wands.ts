import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readCsvRows } from '../csv.ts';
import type { PairRecord } from '../schema.ts';
import { inputError } from '../../util/errors.ts';
import { cellError, optText, text } from './fields.ts';

/**
 * Wayfair ANnotation DataSet (WANDS): three tab-separated files in one folder.
 * - query.csv: query_id, query, query_class
 * - product.csv: product_id, product_name, product_class, category hierarchy, product_description,
 *   product_features ("key:value|key:value"), rating_count, average_rating, review_count
 * - label.csv: id, query_id, product_id, label (Exact / Partial / Irrelevant)
 * The path may be the folder or any one of the three files. One pair per label.csv row; query_class
 * becomes `intent` (the closest thing WANDS has to it, useful for slicing errors).
 */
export const WANDS_SCHEME = 'wands3';
export const WANDS_FILES = ['query.csv', 'product.csv', 'label.csv'] as const;
const LABELS: Readonly<Record<string, string>> = { exact: 'Exact', partial: 'Partial', irrelevant: 'Irrelevant' };

/** The folder holding the three files, or an error naming the one that is missing. */
export function wandsDir(path: string): string {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  if (dir !== path && !(WANDS_FILES as readonly string[]).includes(basename(path))) {
    throw inputError(path, undefined, `a WANDS path is a folder or one of ${WANDS_FILES.join(', ')}`);
  }
  for (const f of WANDS_FILES) {
    if (!existsSync(join(dir, f))) throw inputError(join(dir, f), undefined, `no such file (WANDS needs ${WANDS_FILES.join(', ')} in one folder)`);
  }
  return dir;
}

interface Query {
  query: string;
  queryClass?: string;
}

interface Product {
  title: string;
  category?: string;
  description?: string;
  attributes?: Record<string, string>;
}

export async function* readWands(path: string): AsyncGenerator<PairRecord> {
  const dir = wandsDir(path);
  const queries = await loadQueries(join(dir, 'query.csv'));
  const products = await loadProducts(join(dir, 'product.csv'));
  const file = join(dir, 'label.csv');
  for await (const { row, line } of readCsvRows(file, { delimiter: '\t', required: ['id', 'query_id', 'product_id', 'label'] })) {
    const queryId = text(row, 'query_id', file, line);
    const productId = text(row, 'product_id', file, line);
    const q = queries.get(queryId);
    if (!q) throw cellError({ file, line, column: 'query_id' }, `query_id "${queryId}" is not in query.csv`);
    const p = products.get(productId);
    if (!p) throw cellError({ file, line, column: 'product_id' }, `product_id "${productId}" is not in product.csv`);
    const raw = text(row, 'label', file, line);
    const label = LABELS[raw.toLowerCase()];
    if (!label) throw cellError({ file, line, column: 'label' }, `unknown label ${JSON.stringify(raw)}; expected Exact, Partial or Irrelevant`);
    yield {
      pair_id: text(row, 'id', file, line),
      query_id: queryId,
      query: q.query,
      product_id: productId,
      title: p.title,
      ...(p.category ? { category: p.category } : {}),
      ...(p.attributes ? { attributes: p.attributes } : {}),
      ...(p.description ? { description: p.description } : {}),
      label,
      ...(q.queryClass ? { intent: q.queryClass } : {}),
    };
  }
}

async function loadQueries(file: string): Promise<Map<string, Query>> {
  const map = new Map<string, Query>();
  for await (const { row, line } of readCsvRows(file, { delimiter: '\t', required: ['query_id', 'query'] })) {
    const queryClass = optText(row, 'query_class');
    map.set(text(row, 'query_id', file, line), { query: text(row, 'query', file, line), ...(queryClass ? { queryClass } : {}) });
  }
  return map;
}

async function loadProducts(file: string): Promise<Map<string, Product>> {
  const map = new Map<string, Product>();
  for await (const { row, line } of readCsvRows(file, { delimiter: '\t', required: ['product_id', 'product_name'] })) {
    const category = optText(row, 'category hierarchy') ?? optText(row, 'category_hierarchy') ?? optText(row, 'product_class');
    const description = optText(row, 'product_description');
    const attributes = parseFeatures(row.product_features ?? '');
    const productClass = optText(row, 'product_class');
    if (productClass) attributes.product_class = productClass;
    map.set(text(row, 'product_id', file, line), {
      title: text(row, 'product_name', file, line),
      ...(category ? { category } : {}),
      ...(description ? { description } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    });
  }
  return map;
}

/** "color:blue|material:oak" → {color: 'blue', material: 'oak'}; a value may itself hold ':'. */
export function parseFeatures(features: string): Record<string, string> {
  // A Map, then fromEntries: own properties only, so a key like "__proto__" cannot touch the prototype.
  const out = new Map<string, string>();
  for (const part of features.split('|')) {
    const k = part.indexOf(':');
    if (k <= 0) continue;
    const key = part.slice(0, k).trim();
    const value = part.slice(k + 1).trim();
    if (key && value && !out.has(key)) out.set(key, value);
  }
  return Object.fromEntries(out);
}
