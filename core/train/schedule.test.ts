import { describe, expect, it } from 'vitest';
import { lrAt } from './schedule.ts';
import { batchIndices } from './loop.ts';

describe('lrAt', () => {
  const c = { lr: 1e-3, warmup: 10, steps: 110, minLrRatio: 0.1 };
  it('warms up linearly, peaks, and decays by cosine to the floor', () => {
    expect(lrAt(0, c)).toBeCloseTo(1e-4, 12);
    expect(lrAt(4, c)).toBeCloseTo(5e-4, 12);
    expect(lrAt(9, c)).toBeCloseTo(1e-3, 12);
    expect(lrAt(10, c)).toBeCloseTo(1e-3, 12);
    expect(lrAt(60, c)).toBeCloseTo(5.5e-4, 12); // halfway: (max+min)/2
    expect(lrAt(110, c)).toBeCloseTo(1e-4, 12);
    expect(lrAt(500, c)).toBeCloseTo(1e-4, 12);
  });
  it('without warmup starts at the peak', () => {
    expect(lrAt(0, { ...c, warmup: 0 })).toBeCloseTo(1e-3, 12);
  });
});

describe('batchIndices', () => {
  it('covers every example once per epoch, reshuffles per epoch, and depends only on (seed, step)', () => {
    const epoch0 = [0, 1, 2].flatMap((s) => batchIndices(12, 4, 7, s));
    const epoch1 = [3, 4, 5].flatMap((s) => batchIndices(12, 4, 7, s));
    expect([...epoch0].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect([...epoch1].sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(epoch1).not.toEqual(epoch0);
    expect(batchIndices(12, 4, 7, 4)).toEqual(batchIndices(12, 4, 7, 4));
    expect(batchIndices(12, 4, 8, 0)).not.toEqual(batchIndices(12, 4, 7, 0));
    expect(batchIndices(3, 4, 7, 5)).toHaveLength(3); // fewer examples than a batch
  });
});
