import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drain } from '../../../test/helpers/fixtures.ts';
import { describe, expect, it } from 'vitest';
import { parseFeatures, readWands } from './wands.ts';

const root = mkdtempSync(join(tmpdir(), 'lref-wands-'));
const tsv = (rows: string[][]) => rows.map((r) => r.join('\t')).join('\n') + '\n';

const QUERY = tsv([
  ['query_id', 'query', 'query_class'],
  ['0', 'salon chair', 'Massage Chairs'],
  ['1', 'smart coffee table', 'Coffee & Cocktail Tables'],
]);
const PRODUCT = tsv([
  ['product_id', 'product_name', 'product_class', 'category hierarchy', 'product_description', 'product_features', 'rating_count', 'average_rating', 'review_count'],
  ['0', 'solid wood platform bed', 'Beds', 'Furniture / Bedroom Furniture / Beds', 'good, deep sleep', 'overallwidth-sidetoside:64.7|dsprimaryproductstyle:modern|note:a:b', '15', '4.5', '15'],
  ['1', 'all-clad 7 qt . slow cooker', 'Slow Cookers', '', '', '', '100', '2', '98'],
]);
const LABEL = tsv([
  ['id', 'query_id', 'product_id', 'label'],
  ['0', '0', '0', 'Irrelevant'],
  ['1', '1', '1', 'Partial'],
  ['2', '1', '0', 'Exact'],
]);

function wands(name: string, files: { query?: string; product?: string; label?: string } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'query.csv'), files.query ?? QUERY);
  writeFileSync(join(dir, 'product.csv'), files.product ?? PRODUCT);
  writeFileSync(join(dir, 'label.csv'), files.label ?? LABEL);
  return dir;
}

describe('readWands', () => {
  it('joins labels to queries and products from a folder', async () => {
    const pairs = await drain(readWands(wands('ok')));
    expect(pairs.map((p) => [p.pair_id, p.query_id, p.query, p.product_id, p.label, p.intent])).toEqual([
      ['0', '0', 'salon chair', '0', 'Irrelevant', 'Massage Chairs'],
      ['1', '1', 'smart coffee table', '1', 'Partial', 'Coffee & Cocktail Tables'],
      ['2', '1', 'smart coffee table', '0', 'Exact', 'Coffee & Cocktail Tables'],
    ]);
    expect(pairs[0]).toMatchObject({
      title: 'solid wood platform bed',
      category: 'Furniture / Bedroom Furniture / Beds',
      description: 'good, deep sleep',
      attributes: { 'overallwidth-sidetoside': '64.7', dsprimaryproductstyle: 'modern', note: 'a:b', product_class: 'Beds' },
    });
    // an empty category hierarchy falls back to the product class
    expect(pairs[1]).toMatchObject({ category: 'Slow Cookers', attributes: { product_class: 'Slow Cookers' } });
    expect(pairs[1].description).toBeUndefined();
  });

  it('accepts the path of label.csv instead of the folder', async () => {
    const pairs = await drain(readWands(join(wands('by-file'), 'label.csv')));
    expect(pairs).toHaveLength(3);
  });

  it('rejects an unknown label naming file, line and column', async () => {
    const dir = wands('bad-label', { label: LABEL.replace('Exact', 'Perfect') });
    await expect(drain(readWands(dir))).rejects.toThrow(`${join(dir, 'label.csv')}:4: column "label": unknown label "Perfect"`);
  });

  it('rejects a product row with a missing column, naming product.csv and the line', async () => {
    const dir = wands('bad-product', { product: PRODUCT.replace('\t100\t2\t98', '\t100\t2') });
    await expect(drain(readWands(dir))).rejects.toThrow(`${join(dir, 'product.csv')}:3: expected 9 columns, found 8: missing value(s) for review_count`);
  });

  it('names a label row whose product is unknown', async () => {
    const dir = wands('bad-ref', { label: LABEL + '3\t0\t99\tExact\n' });
    await expect(drain(readWands(dir))).rejects.toThrow(`${join(dir, 'label.csv')}:5: column "product_id": product_id "99" is not in product.csv`);
  });

  it('names the missing file of an incomplete folder', async () => {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    writeFileSync(join(dir, 'query.csv'), QUERY);
    await expect(drain(readWands(dir))).rejects.toThrow(`${join(dir, 'product.csv')}: no such file`);
  });

  it('parses features safely: first value wins, keys like __proto__ stay plain data', () => {
    const f = parseFeatures('a:1|a:2|__proto__:x|bad|:y');
    expect(f).toEqual({ a: '1', ['__proto__']: 'x' });
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
  });
});
