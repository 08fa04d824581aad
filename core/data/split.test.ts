import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng.ts';
import type { PairRecord } from './schema.ts';
import { allocate, sample, sampleBalanced, splitByQuery } from './split.ts';

/** 200 queries with 1–9 pairs each (999 pairs), deterministic. */
function corpus(): PairRecord[] {
  const out: PairRecord[] = [];
  for (let q = 0; q < 200; q++) {
    const n = 1 + ((q * 7) % 9);
    for (let i = 0; i < n; i++) out.push({ pair_id: `${q}-${i}`, query_id: `q${q}`, query: `query ${q}`, product_id: `p${i}`, title: 't', label: 'Exact' });
  }
  return out;
}

describe('splitByQuery', () => {
  const pairs = corpus();
  const opts = { train: 0.8, valid: 0.1, test: 0.1, seed: 7 };

  it('never puts one query in two splits and loses no pair', () => {
    const s = splitByQuery(pairs, opts);
    const ids = (ps: PairRecord[]) => new Set(ps.map((p) => p.query_id));
    const [tr, va, te] = [ids(s.train), ids(s.valid), ids(s.test)];
    for (const q of tr) expect(va.has(q) || te.has(q)).toBe(false);
    for (const q of va) expect(te.has(q)).toBe(false);
    expect(s.train.length + s.valid.length + s.test.length).toBe(pairs.length);
  });

  it('meets the fractions in pairs to within one query', () => {
    const s = splitByQuery(pairs, opts);
    expect(pairs.length).toBe(999);
    // the largest query has 9 pairs
    expect(Math.abs(s.train.length - 799.2)).toBeLessThanOrEqual(9);
    expect(Math.abs(s.valid.length - 99.9)).toBeLessThanOrEqual(9);
    expect(Math.abs(s.test.length - 99.9)).toBeLessThanOrEqual(9);
  });

  it('is deterministic per seed, independent of input order, and differs across seeds', () => {
    const a = splitByQuery(pairs, opts);
    const b = splitByQuery(pairs.slice().reverse(), opts);
    const testIds = (s: { test: PairRecord[] }) => s.test.map((p) => p.pair_id).sort();
    expect(testIds(b)).toEqual(testIds(a));
    expect(testIds(splitByQuery(pairs, { ...opts, seed: 8 }))).not.toEqual(testIds(a));
  });

  it('leaves a zero-fraction split empty and rejects fractions that do not sum to 1', () => {
    const s = splitByQuery(pairs, { train: 0.7, valid: 0, test: 0.3, seed: 1 });
    expect(s.valid).toHaveLength(0);
    expect(() => splitByQuery(pairs, { train: 0.8, valid: 0.1, test: 0.2, seed: 1 })).toThrow('split fractions must each be in [0, 1] and sum to 1');
  });
});

describe('sample and sampleBalanced', () => {
  it('sample draws n distinct items, reproducibly per seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = sample(items, 10, new Rng(3));
    expect(new Set(a).size).toBe(10);
    expect(sample(items, 10, new Rng(3))).toEqual(a);
    expect(sample(items, 99, new Rng(3)).slice().sort((x, y) => x - y)).toEqual(items);
  });

  it('allocate shares n equally, capped by group sizes', () => {
    expect(allocate([100, 100, 100], 30)).toEqual([10, 10, 10]);
    expect(allocate([2, 100, 100], 30)).toEqual([2, 14, 14]);
    expect(allocate([5, 5, 5], 100)).toEqual([5, 5, 5]);
    expect(allocate([20, 20, 20], 31)).toEqual([11, 10, 10]);
  });

  it('sampleBalanced balances head, torso and tail even when the pool is skewed', () => {
    const pool = [
      ...Array.from({ length: 500 }, (_, i) => ({ id: `h${i}`, query_freq: 'head' })),
      ...Array.from({ length: 60 }, (_, i) => ({ id: `t${i}`, query_freq: 'torso' })),
      ...Array.from({ length: 12 }, (_, i) => ({ id: `l${i}`, query_freq: 'tail' })),
    ];
    const got = sampleBalanced(pool, 'query_freq', 90, new Rng(1));
    const count = (f: string) => got.filter((x) => x.query_freq === f).length;
    expect([count('head'), count('torso'), count('tail')]).toEqual([39, 39, 12]);
    expect(new Set(got.map((x) => x.id)).size).toBe(90);
    expect(sampleBalanced(pool, (x) => x.query_freq, 90, new Rng(1))).toEqual(got);
  });
});
