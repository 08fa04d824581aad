import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng.ts';
import { applyNoise, validateConfusions, DEFAULT_CONFUSIONS } from './noise.ts';
import { LREF5_LABELS, type Lref5Label } from './types.ts';

describe('applyNoise', () => {
  const clean: Lref5Label[] = Array.from({ length: 10_000 }, (_, i) => LREF5_LABELS[i % 5]);

  it('changes close to the requested share of labels, only to neighbouring grades', () => {
    for (const rate of [0.05, 0.1, 0.2]) {
      const noisy = applyNoise(clean, rate, new Rng(3));
      const changed = noisy.filter((l, i) => l !== clean[i]);
      expect(Math.abs(changed.length / clean.length - rate)).toBeLessThan(0.02);
      const jumps = noisy.map((l, i) => Math.abs(LREF5_LABELS.indexOf(l) - LREF5_LABELS.indexOf(clean[i])));
      expect(Math.max(...jumps)).toBe(1);
    }
  });

  it('leaves the clean labels untouched and is deterministic per seed', () => {
    const copy = clean.slice();
    const a = applyNoise(clean, 0.1, new Rng(7));
    expect(applyNoise(clean, 0.1, new Rng(7))).toEqual(a);
    expect(clean).toEqual(copy);
    expect(applyNoise(clean, 0, new Rng(7))).toEqual(clean);
  });

  it('leans optimistic where the rules say raters slip: Marginal → Significant more than → Trivial', () => {
    const marg: Lref5Label[] = Array(10_000).fill('Marginal');
    const noisy = applyNoise(marg, 1, new Rng(1));
    const up = noisy.filter((l) => l === 'Significant').length;
    expect(up / marg.length).toBeGreaterThan(0.6);
    expect(up / marg.length).toBeLessThan(0.7);
  });

  it('rejects confusions that jump grades', () => {
    expect(() => validateConfusions({ ...DEFAULT_CONFUSIONS, Exact: { Marginal: 1 } })).toThrow(/not a neighbouring grade/);
    expect(() => applyNoise(clean, 1.5, new Rng(1))).toThrow(/noise rate/);
  });
});
