import { describe, expect, it } from 'vitest';
import { trainWithEarlyStopping } from './early-stop.ts';

/** A fake model whose one weight is the number of steps trained; scores come from a list. */
function fake(scores: number[]) {
  const log: string[] = [];
  let w = 0;
  let calls = 0;
  return {
    log,
    weight: () => w,
    run: (from: number, total: number, every: number, patience: number) =>
      trainWithEarlyStopping({
        from,
        total,
        schedule: { every, patience },
        train: (a, b) => (log.push(`train ${a}-${b}`), (w = b)),
        score: () => scores[calls++],
        snapshot: () => new Map([['w', Float32Array.of(w)]]),
        restore: (m) => (log.push(`restore ${m.get('w')![0]}`), (w = m.get('w')![0])),
      }),
  };
}

describe('trainWithEarlyStopping', () => {
  it('checks every `every` steps, stops after `patience` checks without a gain and restores the best', () => {
    const f = fake([0.1, 0.5, 0.3, 0.5, 0.9]);
    const r = f.run(0, 20, 2, 2);
    // a tie is not a gain: step 8 is the second check without one
    expect(r.curve).toEqual([
      { step: 2, score: 0.1 },
      { step: 4, score: 0.5 },
      { step: 6, score: 0.3 },
      { step: 8, score: 0.5 },
    ]);
    expect(r.bestStep).toBe(4);
    expect(f.log).toEqual(['train 0-2', 'train 2-4', 'train 4-6', 'train 6-8', 'restore 4']);
    expect(f.weight()).toBe(4);
  });

  it('runs to the end with a short last segment, resumes from `from`, and restores nothing when the last check is best', () => {
    const f = fake([0.1, 0.2, 0.3]);
    const r = f.run(3, 10, 3, 1);
    expect(r.curve.map((c) => c.step)).toEqual([6, 9, 10]);
    expect(r.bestStep).toBe(10);
    expect(f.log).toEqual(['train 3-6', 'train 6-9', 'train 9-10']);
  });
});
