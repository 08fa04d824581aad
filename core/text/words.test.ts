import { describe, expect, it } from 'vitest';
import { queryCoverage, stemPlural, tokenize } from './words.ts';

describe('tokenize', () => {
  it('lower-cases, splits on non-alphanumerics and strips plurals lightly', () => {
    expect(tokenize("DeWalt 20V MAX* Drills & Batteries, 1/2-in. Boxes; Women's GLASSES")).toEqual([
      'dewalt', '20v', 'max', 'drill', 'battery', '1', '2', 'in', 'box', 'women', 's', 'glass',
    ]);
    expect(['shoes', 'glass', 'bus', 'this', 'brushes', 'series', 'lens', '3s', 'gas'].map(stemPlural)).toEqual([
      'shoe', 'glass', 'bus', 'this', 'brush', 'sery', 'len', '3s', 'gas',
    ]);
  });
});

describe('queryCoverage', () => {
  it('counts distinct query words found in the title and in title + brand + category + attributes, never the description', () => {
    const pair = {
      query: 'red red Nike running shoes waterproof',
      title: "Nike Women's Running Shoe",
      brand: 'Nike',
      category: 'Shoes > Running',
      attributes: { color: 'Red' },
      description: 'waterproof upper',
    };
    // distinct words: red, nike, running, shoe, waterproof → title has nike, running, shoe; product adds red
    expect(queryCoverage(pair)).toEqual({ queryWords: 5, inTitle: 3, inProduct: 4 });
    expect(queryCoverage({ query: '?!', title: 'anything' })).toEqual({ queryWords: 0, inTitle: 0, inProduct: 0 });
  });
});
