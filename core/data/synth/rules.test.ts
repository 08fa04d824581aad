import { describe, expect, it } from 'vitest';
import { extractFacts, parseQuery } from './parse.ts';
import { gradePair, type RuleReason } from './rules.ts';
import { buildVocabulary } from './vocabulary.ts';

// Cases written from the GRADING-RULES.md table and its edge cases, end to end from text.
const vocab = buildVocabulary();
const grade = (query: string, title: string, extra: { brand?: string; attributes?: Record<string, string> } = {}) =>
  gradePair(parseQuery(query, vocab), extractFacts(title, vocab, extra), vocab);

describe('gradePair: the GRADING-RULES.md table', () => {
  const q = 'nike running shoes women red';
  it.each([
    ["Nike Women's Running Shoe, Red", 'Exact'],
    ["Nike Women's Running Shoe, Blue", 'Significant'],
    ["Adidas Women's Running Shoe, Red", 'Marginal'],
    ["Nike Women's Walking Shoe", 'Marginal'],
    ["Dr. Scholl's Insoles for Running Shoes", 'Trivial'],
    ['Balega Running Socks, 6 Pack', 'Trivial'],
    ['Ninja Countertop Blender 64 oz', 'Irrelevant'],
  ])('%s → %s', (title, label) => {
    expect(grade(q, title).label).toBe(label);
  });

  it('explains a violated primary modifier with values', () => {
    const g = grade(q, "Adidas Women's Running Shoe, Red");
    const brand = g.reasons.find((r): r is Extract<RuleReason, { kind: 'modifier' }> => r.kind === 'modifier' && r.modifier === 'brand');
    expect(brand).toEqual({ kind: 'modifier', modifier: 'brand', importance: 'primary', status: 'violated', queryValue: 'Nike', productValue: 'Adidas' });
    expect(g.reasons[0]).toEqual({ kind: 'product', relation: 'same', queryType: 'running_shoe', productType: 'running_shoe' });
    expect(g.reasons.at(-1)).toEqual({ kind: 'decision', label: 'Marginal', rule: 'same type; a primary modifier violated' });
  });
});

describe('gradePair: ties and edge cases', () => {
  it('a query with no modifiers: same type is Exact, a close substitute Marginal', () => {
    expect(grade('running shoes', 'Hoka Running Shoe').label).toBe('Exact');
    expect(grade('running shoes', 'Skechers Walking Shoe').label).toBe('Marginal');
  });

  it('an unstated secondary modifier is Significant at worst; an unstated primary one is Marginal', () => {
    expect(grade('red running shoes', 'Nike Running Shoe').label).toBe('Significant');
    expect(grade('red mesh running shoes', 'Nike Running Shoe').label).toBe('Significant');
    expect(grade('running shoes size 9', 'Nike Running Shoe').label).toBe('Marginal');
    expect(grade('running shoes size 9', 'Nike Running Shoe', { attributes: { size: '9' } }).label).toBe('Exact');
  });

  it('two violated secondary modifiers make Marginal; one violated and one unstated stays Significant', () => {
    expect(grade('red mesh running shoes', 'Nike Leather Running Shoe, Blue').label).toBe('Marginal');
    expect(grade('red mesh running shoes', 'Nike Running Shoe, Blue').label).toBe('Significant');
  });

  it('wrong size or audience is a primary violation', () => {
    expect(grade('nike running shoes size 9', 'Nike Running Shoe, Size 10').label).toBe('Marginal');
    expect(grade('womens running shoes', "Nike Men's Running Shoe").label).toBe('Marginal');
    expect(grade('1.7 l electric kettle', 'Cosori Electric Kettle 1.7L').label).toBe('Exact');
  });

  it('negation: met when the listing says it lacks the feature, broken or unverifiable → Marginal', () => {
    expect(grade('energy drink no sugar', 'Red Bull Sugar-Free Energy Drink, 12 oz').label).toBe('Exact');
    expect(grade('sugar free energy drink', 'Monster Energy Drink with Sugar, 16 oz').label).toBe('Marginal');
    expect(grade('energy drinks without sugar', 'Monster Energy Drink, 16 oz').label).toBe('Marginal');
    expect(grade('headphones without bluetooth', 'Sony Wired Headphones').label).toBe('Exact');
    expect(grade('decaf coffee beans', 'Starbucks Caffeinated Dark Roast Coffee Beans').label).toBe('Marginal');
    expect(grade('non-stick frying pan', 'T-fal Nonstick Frying Pan, 12 Inch').label).toBe('Exact');
    expect(grade('nonstick skillet 12 inch', 'Lodge Cast Iron Skillet, 12 Inch').label).toBe('Marginal');
  });

  it('accessory intent makes the accessory the core product; the phone itself is Trivial', () => {
    expect(grade('iphone 14 case', 'OtterBox Slim Case for iPhone 14').label).toBe('Exact');
    expect(grade('iphone 14 case', 'Apple iPhone 14 128GB, Blue').label).toBe('Trivial');
    expect(grade('iphone 14 case', 'Spigen Case for Galaxy S23').label).toBe('Marginal');
    expect(grade('iphone 14 case', 'Spigen Rugged Phone Case').label).toBe('Marginal');
    expect(grade('iphone 14', 'Apple iPhone 15 128GB').label).toBe('Marginal');
    expect(grade('iphone 14', 'Spigen Case for iPhone 14').label).toBe('Trivial');
  });

  it('a bundle is judged by its core product', () => {
    expect(grade('iphone 14', 'Apple iPhone 14 128GB Bundle with Phone Case').label).toBe('Exact');
    expect(grade('phone case', 'Apple iPhone 14 128GB Bundle with Phone Case').label).toBe('Trivial');
  });

  it('same category is Trivial, other categories Irrelevant, unknown types Irrelevant', () => {
    expect(grade('coffee maker', 'Ninja Air Fryer 6 Qt').label).toBe('Trivial');
    expect(grade('coffee maker', 'Starbucks Dark Roast Coffee Beans').label).toBe('Trivial'); // declared complement
    expect(grade('coffee maker', 'Coleman 4 Person Tent').label).toBe('Irrelevant');
    expect(grade('zzz qqq', 'Coleman 4 Person Tent').label).toBe('Irrelevant');
  });

  it('price words are secondary and read from the price band', () => {
    expect(grade('cheap hanes t-shirts', 'Hanes T-Shirt', { attributes: { price_tier: 'Budget' } }).label).toBe('Exact');
    expect(grade('cheap hanes t-shirts', 'Hanes T-Shirt', { attributes: { price_tier: 'Premium' } }).label).toBe('Significant');
    expect(grade('cheap hanes t-shirts', 'Hanes T-Shirt').label).toBe('Significant');
  });
});
