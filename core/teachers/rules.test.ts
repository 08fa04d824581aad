import { describe, expect, it } from 'vitest';
import { GRADED3, LREF5, ESCI4 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { overlap, RuleTeacher, wordCount } from './rules.ts';
import { sampleWrongLabel, type CotKind } from './teacher.ts';

function pair(query: string, title: string, label: string, extra: Partial<PairRecord> = {}): PairRecord {
  return { pair_id: 'p1', query_id: 'q1', query, product_id: 'P1', title, label, ...extra };
}

const teacher = new RuleTeacher();
const write = (kind: CotKind, p: PairRecord, wrong?: string, scheme = LREF5) => teacher.write({ kind, pair: p, scheme, gold: p.label, wrong });

// GRADING-RULES.md's own example row: "nike running shoes women red".
const blue = pair('nike running shoes women red', "Nike Women's Running Shoe, Blue", 'Significant', { brand: 'Nike' });
const adidas = pair('nike running shoes women red', "Adidas Women's Running Shoe, Red", 'Marginal', { brand: 'Adidas' });
const insoles = pair('nike running shoes women red', "Dr. Scholl's Running Insoles", 'Trivial');

describe('RuleTeacher on hand-made pairs', () => {
  it('EE explains the facts and ends at the gold label', () => {
    expect(write('ee', blue)).toBe('same type: running shoe. brand Nike met, audience women met, colour red violated (blue). so Significant.');
    expect(write('ee', insoles)).toBe('related type: insoles, accessory of running shoe. so Trivial.');
  });

  it('RA goes product first, then primary and secondary modifiers, and cites the violated primary one', () => {
    const ra = write('ra', adidas);
    expect(ra).toBe('product: running shoe, same type. primary: brand Nike violated (Adidas), audience met. secondary: colour met. primary violated: Marginal.');
    expect(write('ra', blue)).toMatch(/secondary: colour red violated \(blue\)\. one secondary violated: Significant\.$/);
  });

  it('DR names the wrong decision, what it overlooks, and the right grade', () => {
    expect(write('dr', adidas, 'Significant')).toBe('not Significant: same type, brand Nike violated (Adidas). correct: Marginal.');
    expect(write('dr', insoles, 'Marginal')).toBe('not Marginal: insoles is accessory of running shoe. correct: Trivial.');
    // A pessimistic wrong decision: the clause says what is right about the pair.
    expect(write('dr', { ...blue, label: 'Significant' }, 'Trivial')).toBe('not Trivial: same type, colour red violated (blue). correct: Significant.');
  });

  it('DR without a wrong decision, or with gold as the wrong one, is refused', () => {
    expect(() => write('dr', adidas)).toThrow(UserError);
    expect(() => write('dr', adidas, 'Marginal')).toThrow(/pair p1: a DR rationale needs a wrong decision different from gold/);
  });

  it('a gold label the rules disagree with is stated honestly, and still ends the rationale', () => {
    const noisy = { ...blue, label: 'Exact' };
    expect(write('ee', noisy)).toBe('same type: running shoe. brand Nike met, audience women met, colour red violated (blue). rules say Significant; annotated Exact.');
    expect(write('ra', noisy)).toMatch(/one secondary violated: rules say Significant; annotated Exact\.$/);
    expect(write('dr', noisy, 'Significant')).toBe('not Significant: same type, colour red violated (blue). rules say Significant; annotated Exact.');
  });

  it('maps the rules grade to a mapped scheme and quotes it for a scheme without mapping', () => {
    expect(write('ee', { ...blue, label: 'S' }, undefined, ESCI4)).toMatch(/so S\.$/);
    expect(write('ee', { ...blue, label: 'High' }, undefined, GRADED3)).toMatch(/rules say Significant; annotated High\.$/);
  });

  it('falls back to word overlap when no product type is recognised, and says so', () => {
    const real = pair('galvanized angle brackets 12v', 'Simpson Strong-Tie 12-Gauge Angle', 'High');
    // "12v" splits into "12" + "v": the number matches "12-Gauge", the lone unit letter is dropped.
    expect(overlap(real)).toEqual({ shared: ['angle', '12'], missing: ['galvanized', 'brackets'], total: 4 });
    expect(write('ee', real, undefined, GRADED3)).toBe('type not recognised. shared: angle 12. missing: galvanized brackets. annotated High.');
    expect(write('ra', real, undefined, GRADED3)).toBe('product: type not recognised, rules undecided. shared 2 of 4 query words. annotated High.');
    expect(write('dr', real, 'Low', GRADED3)).toBe('not Low: type not recognised. shared: angle 12. missing: galvanized brackets. annotated High.');
  });
});

describe('RuleTeacher on generated data', () => {
  const data = generateDataset({ pairs: 200, seed: 11, noise: 0.1 });
  const all = (t: RuleTeacher, seed: number) => {
    const rng = new Rng(seed);
    return data.pairs.map((p) => {
      const wrong = sampleWrongLabel(LREF5, p.label, rng);
      return { p, wrong, ee: t.write({ kind: 'ee', pair: p, scheme: LREF5, gold: p.label }), ra: t.write({ kind: 'ra', pair: p, scheme: LREF5, gold: p.label }), dr: t.write({ kind: 'dr', pair: p, scheme: LREF5, gold: p.label, wrong }) };
    });
  };
  const written = all(teacher, 3);

  it('is deterministic: a second teacher writes the same 600 rationales', () => {
    expect(all(new RuleTeacher(), 3)).toEqual(written);
  });

  it('keeps every rationale within 25 words, and most well under', () => {
    const counts = written.flatMap((w) => [wordCount(w.ee), wordCount(w.ra), wordCount(w.dr)]);
    expect(Math.max(...counts)).toBeLessThanOrEqual(25);
    expect(counts.reduce((a, b) => a + b, 0) / counts.length).toBeLessThan(16);
  });

  it('ends every rationale at the gold label; DR names the wrong one first', () => {
    for (const { p, wrong, ee, ra, dr } of written) {
      const end = new RegExp(`(so ${p.label}|: ${p.label}|annotated ${p.label}|correct: ${p.label})\\.$`);
      expect(ee).toMatch(end);
      expect(ra).toMatch(end);
      expect(dr).toMatch(end);
      expect(dr.startsWith(`not ${wrong}: `)).toBe(true);
    }
  });

  it('agrees with the clean labels: "rules say" appears exactly where noise changed the label', () => {
    let noisy = 0;
    written.forEach(({ p, ee }, i) => {
      const changed = p.label !== data.cleanLabels[i];
      if (changed) noisy++;
      expect(ee.includes('rules say')).toBe(changed);
    });
    expect(noisy).toBeGreaterThan(5); // noise 0.1 on 200 pairs
  });
});
