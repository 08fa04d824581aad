import { describe, expect, it } from 'vitest';
import type { PairRecord } from '../data/schema.ts';
import { QueueFullError, WorkQueue, type Model } from './queue.ts';

const pair = (i: number) => ({ pair_id: `p${i}`, query_id: 'q', query: `q${i}`, product_id: 'x', title: `t${i}`, label: 'Exact' }) as PairRecord;

/** A model that records each forward pass's size and grades a pair by its index. */
function fakeModel(): Model & { passes: number[]; decodes: number[] } {
  const passes: number[] = [];
  const decodes: number[] = [];
  return {
    passes,
    decodes,
    score: (pairs) => {
      passes.push(pairs.length);
      return pairs.map((p) => ({ label: p.query, probs: { [p.query]: 1 } }));
    },
    generate: (pairs) => (decodes.push(pairs.length), pairs).map((p) => ({ label: p.query, rationale: `because ${p.title}`, raw: '', unparseable: false, logProb: 0 })),
  };
}

describe('WorkQueue', () => {
  it('batches scoring requests queued together into one pass, answering each with its own pairs in order', async () => {
    const m = fakeModel();
    const q = new WorkQueue(m, { maxQueue: 100, maxBatchPairs: 64 });
    const jobs = [[0], [1, 2], [3], [4, 5, 6]].map((ids) => q.score(ids.map(pair)));
    const out = await Promise.all(jobs);
    expect(m.passes).toEqual([7]);
    expect(out.map((r) => r.map((p) => p.label))).toEqual([['q0'], ['q1', 'q2'], ['q3'], ['q4', 'q5', 'q6']]);
    expect(q.snapshot()).toMatchObject({ waiting: 0, running: false, batches: 1, scoredPairs: 7, maxBatch: 7 });
  });

  it('caps a batch at maxBatchPairs (a bigger request runs alone) and keeps generation jobs in order', async () => {
    const m = fakeModel();
    const q = new WorkQueue(m, { maxQueue: 100, maxBatchPairs: 4 });
    const a = q.score([0, 1, 2].map(pair));
    const b = q.score([3, 4].map(pair));
    const g = q.generate([pair(9)], 8);
    const c = q.score([5, 6, 7, 8, 9, 10].map(pair));
    const d = q.score([11].map(pair));
    await Promise.all([a, b, g, c, d]);
    expect(m.passes).toEqual([3, 2, 6, 1]);
    expect((await g)![0].rationale).toBe('because t9');
  });

  it('decodes generation requests queued together with the same token limit as one batch, each answered with its own pairs', async () => {
    const m = fakeModel();
    const q = new WorkQueue(m, { maxQueue: 100, maxBatchPairs: 4 });
    const jobs = [q.generate([pair(0)], 8), q.generate([pair(1), pair(2)], 8), q.generate([pair(3)], 16), q.generate([pair(4), pair(5)], 16), q.generate([pair(6)], 16)];
    const out = await Promise.all(jobs);
    // limit 8: pairs 0-2 together; limit 16: pairs 3-6 together (4 pairs, the batch cap)
    expect(m.decodes).toEqual([3, 4]);
    expect(out.map((r) => r!.map((p) => p.label))).toEqual([['q0'], ['q1', 'q2'], ['q3'], ['q4', 'q5'], ['q6']]);
    expect(q.snapshot().generated).toBe(7);
  });

  it('refuses past maxQueue waiting jobs with QueueFullError, and recovers', async () => {
    const q = new WorkQueue(fakeModel(), { maxQueue: 3, maxBatchPairs: 64 });
    const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => q.score([pair(i)])));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect(q.snapshot().refused).toBe(2);
    await expect(q.score([pair(7)])).resolves.toHaveLength(1);
    await q.idle();
  });

  it('a model error rejects the jobs of that pass only', async () => {
    let calls = 0;
    const q = new WorkQueue(
      { score: (ps) => (++calls === 1 ? (() => { throw new Error('boom'); })() : ps.map(() => ({ label: 'x', probs: {} }))), generate: () => undefined },
      { maxQueue: 10, maxBatchPairs: 1 },
    );
    const [a, b] = await Promise.allSettled([q.score([pair(0)]), q.score([pair(1)])]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
  });
});
