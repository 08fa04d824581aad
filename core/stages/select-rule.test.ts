import { describe, expect, it } from 'vitest';
import {
  labelQuotas,
  SelectionRecord,
  countSelection,
  decideSelection,
  describeSelection,
  parseSelectionConfig,
  resolveAmount,
  selectionRule,
  topUpOrder,
  type AuxVerdict,
} from './select-rule.ts';

const G = 'Marginal';
const OTHER = 'Significant';

describe('selectionRule: all 8 combinations × both MS directions', () => {
  // [IM right, CI right, MS agrees with gold] → [reason with ne, reason with eq]
  const cases: [boolean, boolean, boolean, string, string][] = [
    [false, true, false, 'kept: hard, learnable, not a likely mislabel', 'MS disagrees (msDirection eq)'],
    [false, true, true, 'likely mislabel: MS agrees', 'kept: hard, learnable, not a likely mislabel'],
    [false, false, false, 'not learnable: CI wrong', 'not learnable: CI wrong'],
    [false, false, true, 'not learnable: CI wrong', 'not learnable: CI wrong'],
    [true, true, false, 'easy: IM right', 'easy: IM right'],
    [true, true, true, 'easy: IM right', 'easy: IM right'],
    [true, false, false, 'easy: IM right', 'easy: IM right'],
    [true, false, true, 'easy: IM right', 'easy: IM right'],
  ];
  it.each(cases)('IM right %s, CI right %s, MS = gold %s → ne: %s / eq: %s', (imRight, ciRight, msAgrees, ne, eq) => {
    const im = imRight ? G : OTHER;
    const ci = ciRight ? G : 'Trivial';
    const ms = msAgrees ? G : 'Exact';
    const keepNe = !imRight && ciRight && !msAgrees;
    const keepEq = !imRight && ciRight && msAgrees;
    expect(selectionRule(G, im, ci, ms, 'ne')).toEqual({ keep: keepNe, reason: ne });
    expect(selectionRule(G, im, ci, ms, 'eq')).toEqual({ keep: keepEq, reason: eq });
  });

  it('exactly one combination is kept in each direction', () => {
    let ne = 0;
    let eq = 0;
    for (const im of [G, OTHER]) for (const ci of [G, OTHER]) for (const ms of [G, OTHER]) {
      if (selectionRule(G, im, ci, ms, 'ne').keep) ne++;
      if (selectionRule(G, im, ci, ms, 'eq').keep) eq++;
    }
    expect([ne, eq]).toEqual([1, 1]);
  });
});

describe('SelectionConfig', () => {
  it('has the documented defaults', () => {
    expect(parseSelectionConfig({})).toEqual({ version: 1, selector: 'lref', minKept: 0.05, fallback: 'top-up', auxSampleFraction: 0.5, auxFolds: 2, msDirection: 'ne', balance: 'none' });
  });

  it('names the field at fault', () => {
    expect(() => parseSelectionConfig({ budget: 1.5 }, 'run.json')).toThrow('run.json: budget: must be a fraction in (0, 1] or a whole count > 1');
    expect(() => parseSelectionConfig({ selector: 'all', budget: 0.1 })).toThrow(/budget: selector "all" keeps every pair/);
    expect(() => parseSelectionConfig({ msDirection: 'neq' })).toThrow(/msDirection/);
    expect(() => parseSelectionConfig({ version: 2 })).toThrow(/version/);
    expect(() => parseSelectionConfig({ auxSampleFraction: 0 })).toThrow(/auxSampleFraction/);
    expect(() => parseSelectionConfig({ auxFolds: 1 })).toThrow(/auxFolds/);
  });

  it('reads budgets as fractions up to 1 and counts above', () => {
    expect(resolveAmount(0.1, 300)).toBe(30);
    expect(resolveAmount(1, 300)).toBe(300);
    expect(resolveAmount(45, 300)).toBe(45);
    expect(resolveAmount(500, 300)).toBe(300);
  });
});

/**
 * 10 crafted pairs, gold all Marginal. Pairs 0–3 pass the rule (IM wrong, CI right, MS ≠ gold) with
 * IM p(gold) 0.30, 0.10, 0.20, 0.40; 4–5 are easy; 6–7 not learnable; 8–9 likely mislabels.
 */
function crafted(): { pairs: { pair_id: string; label: string }[]; aux: AuxVerdict[] } {
  const rows: [string, string, string, number][] = [
    [OTHER, G, 'Exact', 0.3],
    [OTHER, G, 'Exact', 0.1],
    [OTHER, G, 'Exact', 0.2],
    [OTHER, G, 'Exact', 0.4],
    [G, G, 'Exact', 0.9], // easy, only IM fails → cost 1
    [G, G, 'Exact', 0.6], // easy, cost 1, harder than 4
    [OTHER, 'Trivial', 'Exact', 0.05], // not learnable → cost 2
    [G, 'Trivial', 'Exact', 0.5], // easy and not learnable → cost 3
    [OTHER, G, G, 0.01], // likely mislabel → cost 4
    [G, 'Trivial', G, 0.7], // fails all three → cost 7
  ];
  return {
    pairs: rows.map((_, i) => ({ pair_id: `p${i}`, label: G })),
    aux: rows.map(([im, ci, ms, imPGold]) => ({ im, ci, ms, imPGold })),
  };
}

const base = parseSelectionConfig({ minKept: 1 / 10 });

describe('decideSelection', () => {
  it('lref keeps what the rule keeps, and every record carries a valid reason', () => {
    const { pairs, aux } = crafted();
    const recs = decideSelection(pairs, aux, base, 1, new Map([['p8', 'Marginal']]));
    expect(recs.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p0', 'p1', 'p2', 'p3']);
    for (const r of recs) expect(SelectionRecord.parse(r)).toEqual(r);
    expect(recs[8]).toEqual({ pair_id: 'p8', gold: G, im: OTHER, ci: G, ms: G, im_p_gold: 0.01, ms_target: 'Marginal', kept: false, reason: 'likely mislabel: MS agrees' });
    expect(countSelection(recs)).toEqual({
      total: 10,
      kept: 4,
      byReason: {
        'kept: hard, learnable, not a likely mislabel': 4,
        'easy: IM right': 4,
        'not learnable: CI wrong': 1,
        'likely mislabel: MS agrees': 1,
      },
    });
  });

  it('a budget keeps the hardest of those the rule keeps', () => {
    const { pairs, aux } = crafted();
    const recs = decideSelection(pairs, aux, { ...base, budget: 2 }, 1);
    expect(recs.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p1', 'p2']);
    expect(recs[0].reason).toBe('over budget: less hard than those kept');
    expect(recs[3].reason).toBe('over budget: less hard than those kept');
    // as a fraction: 0.3 of 10 = 3
    expect(decideSelection(pairs, aux, { ...base, budget: 0.3 }, 1).filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p0', 'p1', 'p2']);
  });

  it('tops up below the minimum with the cheapest failures (easy before unlearnable before mislabel), hardest first', () => {
    const { pairs, aux } = crafted();
    expect(topUpOrder(pairs, aux, [4, 5, 6, 7, 8, 9], 'ne')).toEqual([5, 4, 6, 7, 8, 9]);
    const recs = decideSelection(pairs, aux, { ...base, minKept: 7 }, 1);
    expect(recs.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(recs.filter((r) => r.reason === 'top-up: the rule kept too few').map((r) => r.pair_id)).toEqual(['p4', 'p5', 'p6']);
    // fallback "keep": as few as the rule kept
    expect(decideSelection(pairs, aux, { ...base, minKept: 7, fallback: 'keep' }, 1).filter((r) => r.kept)).toHaveLength(4);
  });

  it('balance "label" reshapes the kept set, same size, to the grade mix: hardest kept per grade, then top-up order', () => {
    // The crafted 10 (all Marginal; the rule keeps p0–p3) plus 10 Exact pairs the rule drops:
    // q0–q4 easy (IM right) with p(gold) 0.9 … 0.5, q5–q9 not learnable. Train mix 50/50.
    const { pairs, aux } = crafted();
    const exact = Array.from({ length: 10 }, (_, i) => ({ pair_id: `q${i}`, label: 'Exact' }));
    const exactAux: AuxVerdict[] = exact.map((_, i) => (i < 5 ? { im: 'Exact', ci: 'Exact', ms: 'Trivial', imPGold: 0.9 - 0.1 * i } : { im: G, ci: G, ms: G, imPGold: 0.05 }));
    const all = [...pairs, ...exact];
    const allAux = [...aux, ...exactAux];
    const plain = decideSelection(all, allAux, parseSelectionConfig({ minKept: 1 / 20 }), 1);
    expect(plain.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p0', 'p1', 'p2', 'p3']);
    const recs = decideSelection(all, allAux, parseSelectionConfig({ minKept: 1 / 20, balance: 'label' }), 1);
    // 4 kept → 2 Marginal (the hardest: p1 0.10, p2 0.20) + 2 Exact (the hardest easy ones: q4 0.5, q3 0.6)
    expect(recs.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p1', 'p2', 'q3', 'q4']);
    expect(recs.find((r) => r.pair_id === 'p0')!.reason).toBe("balance: over its grade's share");
    expect(recs.find((r) => r.pair_id === 'q4')!.reason).toBe('balance: topped up its grade');
    for (const r of recs) expect(SelectionRecord.parse(r)).toEqual(r);
    // quotas sum to the total and follow the mix (largest remainder)
    expect(Object.fromEntries(labelQuotas(['a', 'a', 'a', 'b', 'b', 'c'], 5))).toEqual({ a: 2, b: 2, c: 1 });
    expect([...labelQuotas(['a', 'b', 'c'], 7).values()].reduce((x, y) => x + y, 0)).toBe(7);
    // random at the same budget is unaffected by the balance of lref's set in size
    expect(decideSelection(all, allAux, parseSelectionConfig({ selector: 'random', minKept: 1 / 20, balance: 'label' }), 1).filter((r) => r.kept)).toHaveLength(4);
  });

  it('with msDirection eq the MS check flips: only the pair MS agrees on passes', () => {
    const { pairs, aux } = crafted();
    const recs = decideSelection(pairs, aux, { ...base, msDirection: 'eq', fallback: 'keep' }, 1);
    expect(recs.filter((r) => r.kept).map((r) => r.pair_id)).toEqual(['p8']);
    expect(recs[0].reason).toBe('MS disagrees (msDirection eq)');
  });

  it('random keeps the same count as lref, seeded: same seed same draw, another seed another', () => {
    const { pairs, aux } = crafted();
    const lref = decideSelection(pairs, aux, base, 1);
    const r1 = decideSelection(pairs, aux, { ...base, selector: 'random' }, 1);
    const r1again = decideSelection(pairs, aux, { ...base, selector: 'random' }, 1);
    const kept = (rs: typeof r1) => rs.filter((r) => r.kept).map((r) => r.pair_id);
    expect(kept(r1)).toHaveLength(kept(lref).length);
    expect(kept(r1again)).toEqual(kept(r1));
    const draws = new Set([1, 2, 3, 4, 5].map((s) => kept(decideSelection(pairs, aux, { ...base, selector: 'random' }, s)).join()));
    expect(draws.size).toBeGreaterThan(1);
    expect(r1.every((r) => r.reason === (r.kept ? 'random: drawn' : 'random: not drawn'))).toBe(true);
    // the aux predictions stay on the records for comparison
    expect(r1[8].ms).toBe(G);
    // a budget sets the count instead (and top-up counts: lref with minKept 7 keeps 7, random matches)
    expect(kept(decideSelection(pairs, aux, { ...base, selector: 'random', budget: 3 }, 1))).toHaveLength(3);
    expect(kept(decideSelection(pairs, aux, { ...base, selector: 'random', minKept: 7 }, 1))).toHaveLength(7);
  });

  it('all keeps everything without aux predictions', () => {
    const { pairs, aux } = crafted();
    const recs = decideSelection(pairs, aux, parseSelectionConfig({ selector: 'all' }), 1);
    expect(recs.every((r) => r.kept && r.reason === 'all: no selection' && r.im === undefined)).toBe(true);
  });

  it('describes the outcome in one line, biggest reason first', () => {
    const { pairs, aux } = crafted();
    expect(describeSelection('lref', countSelection(decideSelection(pairs, aux, base, 1)))).toBe(
      'select lref: kept 4/10 (40.0%) — kept: hard, learnable, not a likely mislabel 4, easy: IM right 4, not learnable: CI wrong 1, likely mislabel: MS agrees 1',
    );
  });
});
