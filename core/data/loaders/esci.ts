import type { PairRecord } from '../schema.ts';
import { inputError } from '../../util/errors.ts';
import { cellError, optText, text } from './fields.ts';
import { readTableRows } from './rows.ts';

/**
 * Amazon Shopping Queries Dataset (ESCI, KDD Cup 2022) with its public column names. Examples:
 * example_id, query, query_id, product_id, product_locale, esci_label (+ small_version,
 * large_version, split, which are not needed here). Products: product_id, product_title,
 * product_description, product_bullet_point, product_brand, product_color, product_locale.
 * Either file may be CSV, TSV or JSONL. Products are joined by (product_locale, product_id) — the same
 * ASIN is listed once per locale with different text — falling back to product_id alone when the
 * examples carry no locale. When no products file is given the examples must already carry
 * product_title (a pre-merged export).
 */
export const ESCI_SCHEME = 'esci4';
const EXAMPLE_COLUMNS = ['example_id', 'query', 'query_id', 'product_id', 'esci_label'] as const;

/** The public release uses letters; some exports spell the words out. */
const LABELS: Readonly<Record<string, string>> = {
  e: 'E',
  exact: 'E',
  s: 'S',
  substitute: 'S',
  c: 'C',
  complement: 'C',
  i: 'I',
  irrelevant: 'I',
};

interface Product {
  title: string;
  description?: string;
  brand?: string;
  color?: string;
}

export interface EsciOptions {
  /** the products file, when the examples do not carry product text themselves */
  products?: string;
}

export async function* readEsci(file: string, opts: EsciOptions = {}): AsyncGenerator<PairRecord> {
  const products = opts.products ? await loadProducts(opts.products) : undefined;
  for await (const { row, line } of readTableRows(file, EXAMPLE_COLUMNS)) {
    const productId = text(row, 'product_id', file, line);
    const locale = optText(row, 'product_locale');
    let product: Product | undefined;
    if (products) {
      product = products.get(productKey(locale, productId)) ?? products.get(productKey(undefined, productId));
      if (!product) throw inputError(file, line, `product_id "${productId}"${locale ? ` (locale ${locale})` : ''} is not in the products file ${opts.products}`);
    } else {
      if (!('product_title' in row)) throw inputError(file, line, 'no product_title here and no products file given (pass --products FILE)');
      product = productFrom(row, file, line);
    }
    const rawLabel = text(row, 'esci_label', file, line);
    const label = LABELS[rawLabel.toLowerCase()];
    if (!label) throw cellError({ file, line, column: 'esci_label' }, `unknown label ${JSON.stringify(rawLabel)}; expected E, S, C or I`);
    const attributes: Record<string, string> = {};
    if (product.color) attributes.color = product.color;
    if (locale) attributes.locale = locale;
    yield {
      pair_id: text(row, 'example_id', file, line),
      query_id: text(row, 'query_id', file, line),
      query: text(row, 'query', file, line),
      product_id: productId,
      title: product.title,
      ...(product.brand ? { brand: product.brand } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
      ...(product.description ? { description: product.description } : {}),
      label,
    };
  }
}

function productKey(locale: string | undefined, id: string): string {
  return locale ? `${locale}\t${id}` : id;
}

/** Product text from a row; the description falls back to the bullet points, which many products have instead. */
function productFrom(row: Record<string, string>, file: string, line: number): Product {
  const description = optText(row, 'product_description') ?? optText(row, 'product_bullet_point');
  const brand = optText(row, 'product_brand');
  const color = optText(row, 'product_color');
  return {
    title: text(row, 'product_title', file, line),
    ...(description ? { description } : {}),
    ...(brand ? { brand } : {}),
    ...(color ? { color } : {}),
  };
}

async function loadProducts(file: string): Promise<Map<string, Product>> {
  const map = new Map<string, Product>();
  for await (const { row, line } of readTableRows(file, ['product_id', 'product_title'])) {
    const id = text(row, 'product_id', file, line);
    const product = productFrom(row, file, line);
    const locale = optText(row, 'product_locale');
    map.set(productKey(locale, id), product);
    // Also reachable by id alone, for examples without a locale (first locale wins).
    if (locale && !map.has(id)) map.set(id, product);
  }
  return map;
}
