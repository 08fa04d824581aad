import { join } from 'node:path';
import { drain, fixtureDir } from '../../test/helpers/fixtures.ts';
import { describe, expect, it } from 'vitest';
import { CsvParser, fixWindows1252, readCsvRecords, readCsvRows, sniffHeader } from './csv.ts';

const { dir, file } = fixtureDir('csv');

function parseAll(text: string, chunk = text.length, delimiter = ','): { fields: string[]; line: number }[] {
  const p = new CsvParser('t.csv', delimiter);
  const out = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...p.push(text.slice(i, i + chunk)));
  out.push(...p.end());
  return out;
}

const TRICKY = 'id,text,n\r\n1,"say ""hi""",2\r\n2,"two\r\nlines, and a comma",3\r\n\r\n3,plain,4\n4,"",\n5,a"b,6';

describe('CsvParser', () => {
  it('handles quotes, doubled quotes, multi-line fields, CRLF, blank lines and a missing final newline', () => {
    expect(parseAll(TRICKY)).toEqual([
      { fields: ['id', 'text', 'n'], line: 1 },
      { fields: ['1', 'say "hi"', '2'], line: 2 },
      { fields: ['2', 'two\r\nlines, and a comma', '3'], line: 3 },
      { fields: ['3', 'plain', '4'], line: 6 },
      { fields: ['4', '', ''], line: 7 },
      { fields: ['5', 'a"b', '6'], line: 8 },
    ]);
  });

  it('gives the same records whatever the chunk boundaries (streaming)', () => {
    const whole = parseAll(TRICKY);
    for (const chunk of [1, 2, 3, 5, 7]) expect(parseAll(TRICKY, chunk)).toEqual(whole);
  });

  it('counts lines after a lone CR and a CR split from its LF across chunks', () => {
    expect(parseAll('a\rb\r\nc', 2).map((r) => [r.fields[0], r.line])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('parses tab-separated text with the tab delimiter', () => {
    expect(parseAll('a\tb,c\t"d\te"\n', 4, '\t')).toEqual([{ fields: ['a', 'b,c', 'd\te'], line: 1 }]);
  });

  it('reports an unterminated quote with the line it opened on and the column', () => {
    const p = new CsvParser('x.csv');
    p.columns = ['id', 'title'];
    p.push('id,title\n1,ok\n2,"never closed\nmore\n');
    expect(() => p.end()).toThrow('x.csv:3: column "title": unterminated quoted field');
  });

  it('rejects text after a closing quote, naming line and column', () => {
    const p = new CsvParser('x.csv');
    expect(() => p.push('a,b\n1,"x"y\n')).toThrow(/^x\.csv:2: column #2: unexpected "y" after a closing quote/);
  });
});

describe('readCsvRows', () => {
  it('maps records to header names and reports start lines of multi-line records', async () => {
    const f = file('ok.csv', 'id,desc\n1,"a\nb"\n2,c\n');
    const rows = [];
    for await (const r of readCsvRows(f)) rows.push(r);
    expect(rows).toEqual([
      { row: { id: '1', desc: 'a\nb' }, line: 2 },
      { row: { id: '2', desc: 'c' }, line: 4 },
    ]);
  });

  it('names the missing columns of a short record, with file and line', async () => {
    const f = file('short.csv', 'id,query,title,relevance\n1,q,t,3\n2,q\n');
    await expect(drain(readCsvRows(f))).rejects.toThrow(`${f}:3: expected 4 columns, found 2: missing value(s) for title, relevance`);
  });

  it('names the last column when a record has extra fields', async () => {
    const f = file('long.csv', 'id,query\n1,q,extra\n');
    await expect(drain(readCsvRows(f))).rejects.toThrow(`${f}:2: expected 2 columns, found 3: 1 extra field(s) after the last column "query"`);
  });

  it('requires the named header columns', async () => {
    const f = file('hdr.csv', 'id,q\n1,x\n');
    await expect(drain(readCsvRows(f, { required: ['id', 'query'] }))).rejects.toThrow(`${f}:1: missing column(s) query in the header; found: id, q`);
  });

  it('says "no such file" for a missing path', async () => {
    await expect(drain(readCsvRows(join(dir, 'nope.csv')))).rejects.toThrow('nope.csv: no such file');
  });
});

describe('decoding', () => {
  it('decodes windows-1252, including the 0x80–0x9F range Node decodes as latin-1', async () => {
    // “café” — €5 in windows-1252 bytes
    const bytes = new Uint8Array([0x69, 0x64, 0x0a, 0x93, 0x63, 0x61, 0x66, 0xe9, 0x94, 0x20, 0x96, 0x20, 0x80, 0x35, 0x0a]);
    const f = file('cp.csv', bytes);
    const recs = await drain(readCsvRecords(f, { encoding: 'windows-1252' }));
    expect(recs[1].fields[0]).toBe('“café” – €5');
  });

  it('leaves the five bytes windows-1252 does not define as they are', () => {
    expect(fixWindows1252('\u0081\u008d\u0089')).toBe('\u0081\u008d‰');
  });

  it('drops a UTF-8 byte-order mark so the first column name is clean', async () => {
    const f = file('bom.csv', '\ufeffid,x\n1,2\n');
    const rows = await drain(readCsvRows(f));
    expect(rows[0].row).toEqual({ id: '1', x: '2' });
  });

  it('sniffs a header and its delimiter', () => {
    expect(sniffHeader(file('h.tsv', 'query_id\tquery\n1\tx\n'))).toEqual({ delimiter: '\t', columns: ['query_id', 'query'] });
    expect(sniffHeader(file('h.csv', '"id","a b"\r\n'))).toEqual({ delimiter: ',', columns: ['id', 'a b'] });
  });
});

