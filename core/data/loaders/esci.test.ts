import { describe, expect, it } from 'vitest';
import { drain, fixtureDir } from '../../../test/helpers/fixtures.ts';
import { readEsci } from './esci.ts';

const { file } = fixtureDir('esci');

const EXAMPLES =
  'example_id,query,query_id,product_id,product_locale,esci_label,small_version,large_version,split\n' +
  '0," revent 80 cfm",0,B000MOO21W,us,I,0,1,train\n' +
  '1," revent 80 cfm",0,B07X3Y6B1V,us,E,0,1,train\n' +
  '2,lampe,7,B07X3Y6B1V,fr,substitute,1,1,test\n';
const PRODUCTS =
  'product_id,product_title,product_description,product_bullet_point,product_brand,product_color,product_locale\n' +
  'B000MOO21W,"Panasonic FV-20VQ3 WhisperCeiling 190 CFM Fan","",Quiet fan,Panasonic,White,us\n' +
  'B07X3Y6B1V,"Homewerks 7141-80 Bathroom Fan, 80 CFM","Ceiling mount exhaust fan","",Homewerks,,us\n' +
  'B07X3Y6B1V,"Lampe de plafond","Une lampe","",,,fr\n';

describe('readEsci', () => {
  it('joins CSV examples to products by (locale, product_id) and keeps brand, colour, description', async () => {
    const pairs = await drain(readEsci(file('ex.csv', EXAMPLES), { products: file('pr.csv', PRODUCTS) }));
    expect(pairs.map((p) => [p.pair_id, p.query_id, p.query, p.label, p.title])).toEqual([
      ['0', '0', 'revent 80 cfm', 'I', 'Panasonic FV-20VQ3 WhisperCeiling 190 CFM Fan'],
      ['1', '0', 'revent 80 cfm', 'E', 'Homewerks 7141-80 Bathroom Fan, 80 CFM'],
      ['2', '7', 'lampe', 'S', 'Lampe de plafond'],
    ]);
    expect(pairs[0]).toMatchObject({ brand: 'Panasonic', description: 'Quiet fan', attributes: { color: 'White', locale: 'us' } });
    expect(pairs[1].description).toBe('Ceiling mount exhaust fan');
    expect(pairs[2].brand).toBeUndefined();
  });

  it('reads JSONL examples with product text already merged in', async () => {
    const lines = [
      { example_id: 5, query: 'usb c cable', query_id: 3, product_id: 'B1', product_locale: 'us', esci_label: 'C', product_title: 'Charger', product_brand: 'Anker' },
      { example_id: 6, query: 'usb c cable', query_id: 3, product_id: 'B2', product_locale: 'us', esci_label: 'E', product_title: 'USB-C Cable', product_brand: null },
    ];
    const f = file('merged.jsonl', lines.map((l) => JSON.stringify(l)).join('\n'));
    const pairs = await drain(readEsci(f));
    expect(pairs.map((p) => [p.pair_id, p.query_id, p.label, p.title, p.brand])).toEqual([
      ['5', '3', 'C', 'Charger', 'Anker'],
      ['6', '3', 'E', 'USB-C Cable', undefined],
    ]);
  });

  it('rejects an unknown label naming file, line and column', async () => {
    const f = file('bad-label.csv', EXAMPLES.replace('us,E,', 'us,X,'));
    await expect(drain(readEsci(f, { products: file('pr2.csv', PRODUCTS) }))).rejects.toThrow(`${f}:3: column "esci_label": unknown label "X"`);
  });

  it('names the example whose product is not in the products file', async () => {
    const f = file('missing.csv', EXAMPLES + '3,fan,0,B0NOTTHERE,us,E,0,1,train\n');
    await expect(drain(readEsci(f, { products: file('pr3.csv', PRODUCTS) }))).rejects.toThrow(`${f}:5: product_id "B0NOTTHERE" (locale us) is not in the products file`);
  });

  it('asks for the products file when the examples carry no product text', async () => {
    const f = file('bare.csv', EXAMPLES);
    await expect(drain(readEsci(f))).rejects.toThrow(`${f}:2: no product_title here and no products file given (pass --products FILE)`);
  });
});
