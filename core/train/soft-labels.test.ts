import { describe, expect, it } from 'vitest';
import { gradedMean3Distribution } from '../data/labels.ts';
import type { LMExample } from './batch.ts';
import { exampleAt } from './loop.ts';

describe('soft labels (train.softLabels)', () => {
  it('a Home Depot mean rating becomes its two nearest grades in proportion, most weight on its bucket', () => {
    const d = gradedMean3Distribution(2.33);
    expect(d.Medium).toBeCloseTo(0.67, 2);
    expect(d.High).toBeCloseTo(0.33, 2);
    expect(Object.keys(d)).toHaveLength(2);
    expect(gradedMean3Distribution(3)).toEqual({ High: 1 });
    expect(gradedMean3Distribution(1)).toEqual({ Low: 1 });
    expect(gradedMean3Distribution(1.67).Medium).toBeCloseTo(0.67, 2);
    expect(() => gradedMean3Distribution(3.5)).toThrow(/on 1–3, got 3.5/);
  });

  it('an example without choices is batched as itself', () => {
    const plain: LMExample = { prompt: [1], completion: [5] };
    expect(exampleAt([plain], 0, 1, 3)).toBe(plain);
  });

  it('over the steps of a run, each example is trained on its choices at their rates, the same on a rerun', () => {
    const ex: LMExample = { prompt: [1], completion: [7], choices: [{ completion: [7], p: 0.67 }, { completion: [8], p: 0.33 }] };
    const examples = [ex, ex];
    const draws = (i: number) => Array.from({ length: 3000 }, (_, step) => exampleAt(examples, i, 5, step).completion[0]);
    const a = draws(0);
    const share = a.filter((t) => t === 8).length / a.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.36);
    expect(draws(0)).toEqual(a); // seeded by (seed, step, i)
    expect(draws(1)).not.toEqual(a); // two examples do not draw in lockstep
  });
});
