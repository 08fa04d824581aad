import { describe, expect, it } from 'vitest';
import { drain, fixtureDir } from '../../../test/helpers/fixtures.ts';
import { readCrowdFlower } from './crowdflower.ts';

const { file } = fixtureDir('cf');

const HEADER = '"id","query","product_title","product_description","median_relevance","relevance_variance"\n';

describe('readCrowdFlower', () => {
  it('reads quoted multi-line descriptions, maps the median to graded4 and ids products by title', async () => {
    const f = file(
      'train.csv',
      HEADER +
        '1,"bridal shower decorations","Accent Pillow","Red satin pillow. 8"" x 8"".",1,0\n' +
        '2,"led christmas lights","Train Lights","Line one\nLine two\n\nLine four",4,0.471\n' +
        '7,"light bulb","Accent Pillow","",3,0\n',
    );
    const pairs = await drain(readCrowdFlower(f));
    expect(pairs.map((p) => [p.pair_id, p.query, p.label, p.score])).toEqual([
      ['1', 'bridal shower decorations', '1', 1],
      ['2', 'led christmas lights', '4', 4],
      ['7', 'light bulb', '3', 3],
    ]);
    expect(pairs[0].description).toBe('Red satin pillow. 8" x 8".');
    expect(pairs[1].description).toBe('Line one\nLine two\n\nLine four');
    expect(pairs[2].description).toBeUndefined();
    expect(pairs[2].product_id).toBe(pairs[0].product_id);
    expect(pairs[1].product_id).not.toBe(pairs[0].product_id);
  });

  it('reports the line a record after a multi-line field starts on', async () => {
    const f = file('bad-label.csv', HEADER + '1,"q","t","a\nb\nc",4,0\n2,"q","t","d",2.5,0\n');
    await expect(drain(readCrowdFlower(f))).rejects.toThrow(`${f}:5: column "median_relevance": expected an integer 1–4, got 2.5`);
  });

  it('rejects an out-of-range median naming the column', async () => {
    const f = file('bad-range.csv', HEADER + '1,"q","t","d",5,0\n');
    await expect(drain(readCrowdFlower(f))).rejects.toThrow(`${f}:2: column "median_relevance": expected a number in [1, 4], got "5"`);
  });

  it('reports an unterminated quote with file, line and column', async () => {
    const f = file('open-quote.csv', HEADER + '1,"q","t","d",4,0\n2,"q","t","runs on\n3,"q","t","d",4,0\n');
    await expect(drain(readCrowdFlower(f))).rejects.toThrow(`${f}:3: column "product_description": unterminated quoted field`);
  });

  it('reports a bad column count with file and line', async () => {
    const f = file('short.csv', HEADER + '1,"q","t","d",4,0\n2,"q","t"\n');
    await expect(drain(readCrowdFlower(f))).rejects.toThrow(`${f}:3: expected 6 columns, found 3: missing value(s) for product_description, median_relevance, relevance_variance`);
  });
});
