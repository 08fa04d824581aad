import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drain } from '../../../test/helpers/fixtures.ts';
import { describe, expect, it } from 'vitest';
import { readJsonlPairs } from './jsonl.ts';

const dir = mkdtempSync(join(tmpdir(), 'lref-jsonl-'));
function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}
const pair = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ pair_id: 'p1', query_id: 'q1', query: 'red shoes', product_id: 'x1', title: 'Red Shoe', label: 'Exact', ...over });

describe('readJsonlPairs', () => {
  it('reads canonical pairs, skipping blank lines and accepting CRLF', async () => {
    const f = file('ok.jsonl', [pair(), '', pair({ pair_id: 'p2', label: 'Trivial', query_freq: 'tail', attributes: { color: 'red' } }) + '\r']);
    const pairs = await drain(readJsonlPairs(f));
    expect(pairs.map((p) => [p.pair_id, p.label, p.query_freq])).toEqual([
      ['p1', 'Exact', undefined],
      ['p2', 'Trivial', 'tail'],
    ]);
    expect(pairs[1].attributes).toEqual({ color: 'red' });
  });

  it('reports invalid JSON with file and line', async () => {
    const f = file('bad-json.jsonl', [pair(), '{"pair_id": "p2",']);
    await expect(drain(readJsonlPairs(f))).rejects.toThrow(new RegExp(`^${f.replace(/[.]/g, '\\.')}:2: invalid JSON`));
  });

  it('reports a schema violation with file, line and the field path', async () => {
    const f = file('bad-field.jsonl', [pair(), pair({ pair_id: 'p2' }), pair({ pair_id: 'p3', attributes: { color: 3 } })]);
    await expect(drain(readJsonlPairs(f))).rejects.toThrow(`${f}:3: field attributes.color:`);
  });

  it('reports a missing field and an unknown key', async () => {
    const missing = file('missing.jsonl', [JSON.stringify({ pair_id: 'p', query_id: 'q', query: 'x', product_id: 'y', label: 'Exact' })]);
    await expect(drain(readJsonlPairs(missing))).rejects.toThrow(`${missing}:1: field title:`);
    const extra = file('extra.jsonl', [pair({ relevance: 3 })]);
    await expect(drain(readJsonlPairs(extra))).rejects.toThrow(new RegExp(`extra\\.jsonl:1: record: .*relevance`));
  });
});
