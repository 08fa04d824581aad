import { describe, expect, it } from 'vitest';
import { extractFacts, parseQuery } from './parse.ts';
import { buildVocabulary, editDistance1, normalizeTokens } from './vocabulary.ts';

const vocab = buildVocabulary();

describe('normalizeTokens', () => {
  it('drops apostrophes, splits hyphens and glued units, keeps decimals and separators', () => {
    expect(normalizeTokens("Women's T-Shirt, 1.7L 128GB - 6-Pack")).toEqual(['womens', 't', 'shirt', '|', '1.7', 'l', '128', 'gb', '|', '6', 'pack']);
  });
});

describe('vocabulary', () => {
  it('corrects one-edit typos only when a single word is that close', () => {
    expect(vocab.correct('runing')).toBe('running');
    expect(vocab.correct('addidas')).toBe('adidas');
    expect(vocab.correct('sheos')).toBe('shoes');
    expect(vocab.correct('qwxyz')).toBe('qwxyz');
    expect(editDistance1('abcd', 'abdc')).toBe(true);
    expect(editDistance1('abcd', 'badc')).toBe(false);
  });
});

describe('parseQuery', () => {
  it('reads type, brand, audience, colour, size', () => {
    const q = parseQuery('nike womens red running shoes size 8.5', vocab);
    expect(q).toMatchObject({ type: 'running_shoe', brand: 'Nike', audience: 'women', colour: 'red', size: { kind: 'shoe', value: '8.5' } });
  });

  it('reads synonyms and typos', () => {
    expect(parseQuery('ladies sneakers gray', vocab)).toMatchObject({ type: 'running_shoe', audience: 'women', colour: 'grey' });
    expect(parseQuery('cuisiinart coffe makers', vocab)).toMatchObject({ type: 'coffee_maker', brand: 'Cuisinart' });
  });

  it('reads negations in every form', () => {
    for (const text of ['energy drink without sugar', 'no sugar energy drink', 'sugar free energy drink', 'sugar-free energy drinks', 'unsweetened energy drink']) {
      expect(parseQuery(text, vocab).negations).toEqual(['sugar']);
    }
    expect(parseQuery('bluetooth headphones', vocab)).toMatchObject({ negations: [], wants: ['bluetooth'] });
  });

  it('reads accessory intent and compatibility: the accessory is the core product', () => {
    expect(parseQuery('iphone 14 case', vocab)).toMatchObject({ type: 'phone_case', compat: 'iphone_14' });
    expect(parseQuery('screen protector compatible with galaxy s23 2 pack', vocab)).toMatchObject({ type: 'screen_protector', compat: 'galaxy_s23', pack: 2 });
    expect(parseQuery('insoles for running shoes', vocab).type).toBe('insoles');
    expect(parseQuery('running shoes for women', vocab)).toMatchObject({ type: 'running_shoe', audience: 'women' });
    const phone = parseQuery('apple iphone 14 256gb', vocab);
    expect(phone).toMatchObject({ type: 'smartphone', model: 'iphone_14', brand: 'Apple', size: { kind: 'measure', value: '256', unit: 'gb' } });
    expect(phone.compat).toBeUndefined();
  });

  it('reads price words, packs, apparel sizes and styles', () => {
    expect(parseQuery('cheap v neck t-shirts size xl pack of 3', vocab)).toMatchObject({
      type: 't_shirt', price: 'budget', style: 'v neck', size: { kind: 'apparel', value: 'xl' }, pack: 3,
    });
    expect(parseQuery('medium roast coffee pods', vocab)).toMatchObject({ type: 'coffee_pods', style: 'medium roast' });
    expect(parseQuery('medium roast coffee pods', vocab).size).toBeUndefined();
  });
});

describe('extractFacts', () => {
  it('reads a title with brand phrases that contain colour and type words', () => {
    const f = extractFacts('Black+Decker 12 Cup Coffee Maker, Red', vocab);
    expect(f).toMatchObject({ type: 'coffee_maker', brand: 'Black+Decker', colour: 'red', size: { kind: 'measure', value: '12', unit: 'cup' } });
    expect(extractFacts('Mr. Coffee Coffee Filter - 200 Count', vocab)).toMatchObject({ type: 'coffee_filter', brand: 'Mr. Coffee', pack: 200 });
  });

  it('takes a phone from its model and a case’s compatibility from the model it fits', () => {
    expect(extractFacts('Apple iPhone 15 - 128GB', vocab)).toMatchObject({ type: 'smartphone', model: 'iphone_15', brand: 'Apple' });
    expect(extractFacts('OtterBox iPhone 14 Rugged Case', vocab)).toMatchObject({ type: 'phone_case', compat: 'iphone_14', brand: 'OtterBox', styles: ['rugged'] });
  });

  it('reads features, bundles and attributes', () => {
    const f = extractFacts('Hydro Flask BPA-Free Water Bottle', vocab, { brand: 'hydro flask', attributes: { size: '32 oz', colour: 'Navy', pack: '2', price_tier: 'Premium' } });
    expect(f).toMatchObject({ type: 'water_bottle', brand: 'Hydro Flask', features: { bpa: 'lacks' }, size: { value: '32', unit: 'oz' }, colour: 'navy', pack: 2, priceTier: 'premium' });
    expect(extractFacts('Sony Bluetooth Headphones', vocab).features).toEqual({ bluetooth: 'has' });
    const b = extractFacts('Apple iPhone 14 Bundle with Phone Case', vocab);
    expect(b).toMatchObject({ type: 'smartphone', bundle: ['phone_case'] });
    expect(extractFacts('Nike Running Shoe', vocab, { attributes: { size: '9', audience: 'Women', compatible_with: 'iPhone 14' } })).toMatchObject({
      size: { kind: 'shoe', value: '9' }, audience: 'women',
    });
  });

  it('leaves unstated facts out (they are unverifiable to the rules)', () => {
    const f = extractFacts('Nike Running Shoe', vocab);
    expect(f.colour).toBeUndefined();
    expect(f.size).toBeUndefined();
    expect(f.audience).toBeUndefined();
  });
});
