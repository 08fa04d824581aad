import { describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { UserError } from '../util/errors.ts';
import { fromDataTeacher } from './from-data.ts';

const base: PairRecord = {
  pair_id: 'hd-1042',
  query_id: 'q1',
  query: 'angle bracket',
  product_id: '100001',
  title: 'Simpson Strong-Tie 12-Gauge Angle',
  label: 'Exact',
};

describe('fromDataTeacher', () => {
  it('returns the rationale of the requested kind', async () => {
    const t = fromDataTeacher('pairs.jsonl');
    const pair = { ...base, rationales: { ee: 'same type', ra: 'rule 1 applies', dr: 'not Marginal because' } };
    expect(t.id).toBe('from-data');
    expect(await t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })).toBe('same type');
    expect(await t.rationale({ kind: 'ra', pair, scheme: LREF5, gold: 'Exact' })).toBe('rule 1 applies');
    expect(await t.rationale({ kind: 'dr', pair, scheme: LREF5, gold: 'Exact', wrong: 'Significant' })).toBe('not Marginal because');
    expect(t.confusableLabel).toBeUndefined();
  });

  it('names the source, the pair_id and the field when a rationale is missing or blank', async () => {
    const t = fromDataTeacher('pairs.jsonl');
    const noneAtAll = t.rationale({ kind: 'ra', pair: base, scheme: LREF5, gold: 'Exact' });
    await expect(noneAtAll).rejects.toBeInstanceOf(UserError);
    await expect(noneAtAll).rejects.toThrow(/^pairs\.jsonl: pair hd-1042: field rationales\.ra is missing or empty; .*rule-adherence \(RA\)/);
    const blank = { ...base, rationales: { ee: 'x', dr: '  ' } };
    await expect(t.rationale({ kind: 'dr', pair: blank, scheme: LREF5, gold: 'Exact' })).rejects.toThrow(/pair hd-1042: field rationales\.dr/);
  });
});
