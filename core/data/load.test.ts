import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PairRecord } from './schema.ts';
import { detectFormat, loadDataset, readPairs, writePairsJsonl } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'lref-load-'));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const pair = (id: string, label: string, query = 'red shoes'): PairRecord => ({
  pair_id: id,
  query_id: `q-${query}`,
  query,
  product_id: `x${id}`,
  title: `Product ${id}`,
  label,
});
const jsonl = (pairs: PairRecord[]) => pairs.map((p) => JSON.stringify(p)).join('\n') + '\n';

describe('detectFormat', () => {
  it('recognises each format by extension and header', () => {
    expect(detectFormat(file('hd.csv', '"id","product_uid","product_title","search_term","relevance"\n'))).toBe('homedepot');
    expect(detectFormat(file('cf.csv', '"id","query","product_title","product_description","median_relevance","relevance_variance"\n'))).toBe('crowdflower');
    expect(detectFormat(file('esci.csv', 'example_id,query,query_id,product_id,product_locale,esci_label\n'))).toBe('esci');
    expect(detectFormat(file('esci.jsonl', '{"example_id":1,"esci_label":"E"}\n'))).toBe('esci');
    expect(detectFormat(file('pairs.jsonl', '\n' + JSON.stringify(pair('1', 'Exact')) + '\n'))).toBe('jsonl');
    const w = join(dir, 'wands');
    mkdirSync(w);
    for (const f of ['query.csv', 'product.csv']) writeFileSync(join(w, f), 'x\n');
    writeFileSync(join(w, 'label.csv'), 'id\tquery_id\tproduct_id\tlabel\n');
    expect(detectFormat(w)).toBe('wands');
    expect(detectFormat(join(w, 'label.csv'))).toBe('wands');
  });

  it('lists the formats when it cannot tell', () => {
    const f = file('mystery.csv', 'a,b,c\n');
    expect(() => detectFormat(f)).toThrow(`${f}: cannot tell the data format (header columns: a, b, c); pass --format, one of: jsonl, esci, wands, homedepot, crowdflower`);
    expect(() => detectFormat(join(dir, 'absent.csv'))).toThrow('absent.csv: no such file or folder');
  });

  it('rejects an unknown --format by name', () => {
    expect(() => readPairs(file('any.csv', 'a\n'), { format: 'parquet' })).toThrow('unknown data format "parquet"; known: jsonl, esci, wands, homedepot, crowdflower');
  });
});

describe('loadDataset', () => {
  it('infers a jsonl scheme from its labels, preferring LREF-5', async () => {
    const lref = await loadDataset(file('lref.jsonl', jsonl([pair('1', 'Exact'), pair('2', 'Irrelevant')])));
    expect(lref.scheme).toBe('lref5');
    const w = await loadDataset(file('w.jsonl', jsonl([pair('1', 'Partial'), pair('2', 'Irrelevant')])));
    expect(w.scheme).toBe('wands3');
    const g = await loadDataset(file('g.jsonl', jsonl([pair('1', '4'), pair('2', '1')])));
    expect(g.scheme).toBe('graded4');
  });

  it('errors when the labels fit no scheme, or not the one asked for', async () => {
    const mixed = file('mixed.jsonl', jsonl([pair('1', 'Exact'), pair('2', 'E')]));
    await expect(loadDataset(mixed)).rejects.toThrow(`${mixed}: labels E, Exact do not all belong to one label scheme; known schemes: lref5 (Exact,`);
    const w = file('w2.jsonl', jsonl([pair('1', 'Partial')]));
    await expect(loadDataset(w, { scheme: 'lref5' })).rejects.toThrow('labels Partial are not in scheme lref5');
    const hd = file('hd2.csv', '"id","product_uid","product_title","search_term","relevance"\n1,2,"t","q",3\n');
    await expect(loadDataset(hd, { scheme: 'lref5' })).rejects.toThrow("the homedepot format's labels are scheme graded3; --scheme lref5 does not apply");
    expect((await loadDataset(hd, { scheme: 'graded3' })).scheme).toBe('graded3');
  });

  it('assigns query_freq, records the source, and rejects duplicate pair ids', async () => {
    const pairs = [pair('1', 'Exact', 'a'), pair('2', 'Exact', 'a'), pair('3', 'Trivial', 'b'), pair('4', 'Exact', 'c')];
    const ds = await loadDataset(file('freq.jsonl', jsonl(pairs)));
    expect(ds.pairs.map((p) => p.query_freq)).toEqual(['head', 'head', 'torso', 'torso']); // b and c: 1 of 3 queries above
    expect(ds.source).toBe(join(dir, 'freq.jsonl'));
    const dup = file('dup.jsonl', jsonl([pair('1', 'Exact'), pair('1', 'Marginal')]));
    await expect(loadDataset(dup)).rejects.toThrow(`${dup}: duplicate pair_id "1" (pair 2)`);
  });

  it('refuses --products for formats other than esci', () => {
    expect(() => readPairs(file('p.jsonl', jsonl([pair('1', 'Exact')])), { products: 'x.csv' })).toThrow('--products applies to the esci format only (this is jsonl)');
  });
});

describe('writePairsJsonl', () => {
  it('round-trips pairs through a canonical JSONL file and leaves no temp file', async () => {
    const out = join(dir, 'out', 'pairs.jsonl');
    const pairs = [{ ...pair('1', 'Exact'), attributes: { color: 'red' }, score: 2.5 }, pair('2', 'Trivial')];
    expect(await writePairsJsonl(out, pairs)).toBe(2);
    expect(readFileSync(out, 'utf8').split('\n')).toHaveLength(3);
    const back = await loadDataset(out);
    expect(back.pairs.map(({ query_freq: _f, ...p }) => p)).toEqual(pairs);
    expect(readdirSync(join(dir, 'out'))).toEqual(['pairs.jsonl']);
  });

  it('keeps the old file when writing fails midway', async () => {
    const out = file('keep.jsonl', 'old\n');
    async function* failing(): AsyncGenerator<PairRecord> {
      yield pair('1', 'Exact');
      throw new Error('source broke');
    }
    await expect(writePairsJsonl(out, failing())).rejects.toThrow('source broke');
    expect(readFileSync(out, 'utf8')).toBe('old\n');
  });
});
