import { describe, expect, it } from 'vitest';
import { drain, fixtureDir } from '../../../test/helpers/fixtures.ts';
import { readHomeDepot } from './homedepot.ts';
import { queryIdFor } from './ids.ts';
import { decodeHtmlEntities } from './html.ts';

const { file } = fixtureDir('hd');
/** Home Depot's file is windows-1252: encode the fixture the same way (é is 0xE9, ™ is 0x99). */
function cp1252(text: string): Uint8Array {
  return Uint8Array.from([...text].map((ch) => (ch === '™' ? 0x99 : ch.charCodeAt(0))));
}

const HEADER = '"id","product_uid","product_title","search_term","relevance"\n';

describe('readHomeDepot', () => {
  it('reads windows-1252 rows, decodes entities in titles, buckets the mean into graded3 and keeps the score', async () => {
    const f = file(
      'train.csv',
      cp1252(HEADER + '2,100001,"Simpson Strong-Tie 12-Gauge Angle","angle bracket",3\n' + '3,100002,"Caf&eacute; Tom&#39;s Bench&trade; &amp; Stool™ déco","Angle Bracket ",1.67\n' + '9,100003,"Lamp","lamp",1.33\n'),
    );
    const pairs = await drain(readHomeDepot(f));
    expect(pairs.map((p) => [p.pair_id, p.product_id, p.label, p.score])).toEqual([
      ['2', '100001', 'High', 3],
      ['3', '100002', 'Medium', 1.67],
      ['9', '100003', 'Low', 1.33],
    ]);
    expect(pairs[1].title).toBe('Caf&eacute; Tom\'s Bench™ & Stool™ déco');
    // the same query in another case and with padding gets the same id
    expect(pairs[1].query).toBe('Angle Bracket');
    expect(pairs[1].query_id).toBe(pairs[0].query_id);
    expect(pairs[0].query_id).toBe(queryIdFor('angle bracket'));
  });

  it('rejects a relevance outside 1–3 naming file, line and column', async () => {
    const f = file('bad-rel.csv', HEADER + '2,1,"t","q",3\n3,1,"t","q",4.5\n');
    await expect(drain(readHomeDepot(f))).rejects.toThrow(`${f}:3: column "relevance": expected a number in [1, 3], got "4.5"`);
  });

  it('rejects an empty search term', async () => {
    const f = file('bad-q.csv', HEADER + '2,1,"t","",3\n');
    await expect(drain(readHomeDepot(f))).rejects.toThrow(`${f}:2: column "search_term": is empty`);
  });

  it('rejects a file without the Home Depot columns', async () => {
    const f = file('other.csv', 'id,query\n1,x\n');
    await expect(drain(readHomeDepot(f))).rejects.toThrow(/other\.csv:1: missing column\(s\) product_uid, product_title, search_term, relevance/);
  });
});

describe('ids and entities', () => {
  it('query ids are stable, case-insensitive and keep internal whitespace distinct', () => {
    expect(queryIdFor('Fence Mesh')).toBe(queryIdFor(' fence mesh'));
    expect(queryIdFor('fence  mesh')).not.toBe(queryIdFor('fence mesh'));
    expect(queryIdFor('angle bracket')).toMatch(/^q_[0-9a-f]{12}$/);
  });

  it('decodes named (any case) and numeric entities and leaves unknown ones', () => {
    expect(decodeHtmlEntities('A &Amp; B&nbsp;&#8217;s &#x41; &bogus; &39;')).toBe('A & B ’s A &bogus; &39;');
  });
});
