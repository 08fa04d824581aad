import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { PairRecord } from './schema.ts';

/**
 * Splits and samples. Splits are by query: every pair of a query lands in the same split, so a
 * model is never evaluated on a query it saw in training (LREF's test set is of unseen pairs; a
 * per-pair split would leak the query's other products).
 */
export interface SplitFractions {
  train: number;
  valid: number;
  test: number;
  seed: number;
}

export interface Splits<T> {
  train: T[];
  valid: T[];
  test: T[];
}

const SPLIT_NAMES = ['train', 'valid', 'test'] as const;

/**
 * Queries are shuffled by the seed (starting from sorted ids, so input order does not matter) and
 * each goes to the split furthest below its target share of the pairs assigned so far. Fractions
 * are met in pairs, to within about one query's size. Pairs keep their input order within a split.
 */
export function splitByQuery<T extends Pick<PairRecord, 'query_id'>>(pairs: readonly T[], opts: SplitFractions): Splits<T> {
  const fr = SPLIT_NAMES.map((s) => opts[s]);
  if (fr.some((f) => !Number.isFinite(f) || f < 0 || f > 1) || Math.abs(fr.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw new UserError(`split fractions must each be in [0, 1] and sum to 1, got train ${opts.train}, valid ${opts.valid}, test ${opts.test}`);
  }
  const size = new Map<string, number>();
  for (const p of pairs) size.set(p.query_id, (size.get(p.query_id) ?? 0) + 1);
  const order = new Rng(opts.seed).shuffle([...size.keys()].sort());

  const where = new Map<string, number>();
  const count = [0, 0, 0];
  let assigned = 0;
  for (const q of order) {
    const n = size.get(q)!;
    let best = 0;
    let bestDeficit = -Infinity;
    for (let s = 0; s < 3; s++) {
      // how many pairs split s is short of its share once this query is placed somewhere
      const deficit = fr[s] * (assigned + n) - count[s];
      if (fr[s] > 0 && deficit > bestDeficit) {
        best = s;
        bestDeficit = deficit;
      }
    }
    where.set(q, best);
    count[best] += n;
    assigned += n;
  }
  const out: Splits<T> = { train: [], valid: [], test: [] };
  for (const p of pairs) out[SPLIT_NAMES[where.get(p.query_id)!]].push(p);
  return out;
}

/** n items drawn without replacement, in drawn order (all of them, shuffled, when n ≥ length). */
export function sample<T>(items: readonly T[], n: number, rng: Rng): T[] {
  const a = items.slice();
  const k = Math.max(0, Math.min(Math.floor(n), a.length));
  // partial Fisher–Yates: only the first k positions need to be drawn
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(a.length - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/**
 * n items spread as evenly as possible across the groups named by `key` (LREF's CI model trains on a
 * sample balanced over head, torso and tail). A group with fewer items than its share gives all it
 * has and the rest is shared among the others. Groups are visited in sorted key order, so the
 * allocation is deterministic; the draw within each group uses `rng`. Result: grouped, in draw order.
 */
export function sampleBalanced<T>(items: readonly T[], key: keyof T | ((item: T) => string | undefined), n: number, rng: Rng): T[] {
  const keyOf = typeof key === 'function' ? key : (item: T) => (item[key] === undefined ? undefined : String(item[key]));
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = keyOf(it) ?? '(none)';
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  const names = [...groups.keys()].sort();
  const quota = allocate(
    names.map((g) => groups.get(g)!.length),
    Math.min(Math.max(0, Math.floor(n)), items.length),
  );
  return names.flatMap((g, i) => sample(groups.get(g)!, quota[i], rng));
}

/** Water-filling: equal shares, capped by group sizes, leftovers to the first groups with room. */
export function allocate(sizes: readonly number[], n: number): number[] {
  const quota = sizes.map(() => 0);
  let left = n;
  let open = sizes.map((_, i) => i).filter((i) => sizes[i] > 0);
  while (left > 0 && open.length > 0) {
    const share = Math.floor(left / open.length);
    if (share === 0) {
      // fewer items left than open groups: one more each to the first groups
      for (const i of open.slice(0, left)) quota[i]++;
      break;
    }
    for (const i of open) {
      const take = Math.min(share, sizes[i] - quota[i]);
      quota[i] += take;
      left -= take;
    }
    open = open.filter((i) => quota[i] < sizes[i]);
  }
  return quota;
}
