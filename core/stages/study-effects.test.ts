import { describe, expect, it } from 'vitest';
import { formatEffects, studyEffects } from './study-effects.ts';
import { stat, STUDY_FIGURES, type Stat } from './study-stat.ts';

/** A split table where every figure of a variant takes the per-seed values given (others 0). */
function table(rows: Record<string, Partial<Record<(typeof STUDY_FIGURES)[number], number[]>>>): Record<string, Record<string, Stat>> {
  return Object.fromEntries(Object.entries(rows).map(([v, figs]) => [v, Object.fromEntries(STUDY_FIGURES.map((f) => [f, stat(figs[f] ?? [0, 0, 0])]))]));
}

describe('studyEffects', () => {
  const variants = ['lexical', 'cross_encoder', 'sft_all', 'sft_random', 'sft_selected', '+ee', '+ee:scored', '+label', '+dpo'];
  const test = table({
    lexical: { macro_f1: [0.4, 0.42, 0.44] },
    cross_encoder: { macro_f1: [0.5, 0.5, 0.5] },
    sft_all: { macro_f1: [0.45, 0.48, 0.43] },
    sft_random: { macro_f1: [0.3, 0.3, 0.3] },
    sft_selected: { macro_f1: [0.32, 0.29, 0.31] },
    '+ee': { macro_f1: [0.2, 0.2, 0.2], optimistic_error_share: [0.5, 0.6, 0.4], accuracy: [0.5, 0.5, 0.5] },
    '+ee:scored': { macro_f1: [0.3, 0.3, 0.3] },
    '+label': { macro_f1: [0.25, 0.25, 0.25] },
    // seed 1: share −40%, accuracy −0.5 point (goal met); seed 2: −50% but accuracy −2 points; seed 3: −10%
    '+dpo': { macro_f1: [0.2, 0.2, 0.2], optimistic_error_share: [0.3, 0.3, 0.36], accuracy: [0.495, 0.48, 0.5] },
  });
  // On valid sft_random is best; on test it is not: the best variant is chosen on valid.
  const valid = table({ ...Object.fromEntries(variants.map((v) => [v, { macro_f1: [0.3, 0.3, 0.3] }])), sft_random: { macro_f1: [0.6, 0.6, 0.6] } });

  it('picks the best LREF variant on valid and pairs each seed with the baselines of that seed', () => {
    const fx = studyEffects(variants, test, valid, ['ee']);
    const best = fx.filter((e) => e.name.startsWith('best'));
    expect(best.map((e) => e.name)).toEqual(['best (sft_random) − lexical', 'best (sft_random) − cross_encoder']);
    expect(best[0].test.values.map((v) => +v.toFixed(6))).toEqual([-0.1, -0.12, -0.14]);
    expect(best[0].wins).toBe(0);
    expect(best[0].valid!.mean).toBeCloseTo(0.3, 12);
  });

  it('pairs per seed, so a shared seed spread cancels: selection, CoT vs +label', () => {
    const fx = studyEffects(variants, test, valid, ['ee']);
    const sel = fx.find((e) => e.name === 'sft_selected − sft_random')!;
    expect(sel.test.values.map((v) => +v.toFixed(6))).toEqual([0.02, -0.01, 0.01]);
    expect(sel.wins).toBe(2);
    expect(fx.find((e) => e.name === '+ee − +label')!.test.mean).toBeCloseTo(-0.05, 12);
    expect(fx.find((e) => e.name === '+ee:scored − +label')!.wins).toBe(3);
  });

  it('measures DPO against the last CoT kind, relative share and accuracy, with the goal per seed', () => {
    const fx = studyEffects(variants, test, valid, ['ee']);
    const share = fx.find((e) => e.figure === 'optimistic_error_share')!;
    expect(share).toMatchObject({ a: '+dpo', b: '+ee', relative: true, better: 'lower', wins: 3 });
    expect(share.test.values.map((v) => +v.toFixed(6))).toEqual([-0.4, -0.5, -0.1]);
    expect(share.goal!.met).toBe(1);
    const acc = fx.find((e) => e.name === '+dpo − +ee, accuracy')!;
    expect(acc.test.values.map((v) => +v.toFixed(6))).toEqual([-0.005, -0.02, 0]);
    // an unparseable +dpo output fails the goal even when share and accuracy pass
    const broken = table({ ...Object.fromEntries(Object.entries(test).map(([v, t]) => [v, Object.fromEntries(Object.entries(t).map(([f, s]) => [f, s.values]))])), '+dpo': { optimistic_error_share: [0.3, 0.3, 0.36], accuracy: [0.495, 0.48, 0.5], unparseable_rate: [0.05, 0, 0] } });
    expect(studyEffects(variants, broken, valid, ['ee']).find((e) => e.goal)!.goal!.met).toBe(0);
  });

  it('without a valid split no best variant is chosen; absent variants give no effect', () => {
    const fx = studyEffects(['lexical', 'sft_all'], table({ lexical: {}, sft_all: {} }), undefined, ['ee', 'ra', 'dr']);
    expect(fx).toEqual([]);
    const text = formatEffects(studyEffects(variants, test, valid, ['ee']));
    expect(text).toContain('sft_selected − sft_random');
    expect(text).toMatch(/\+dpo vs \+ee, optimistic share \(relative\)\s+−33\.3% ± 20\.8\s+−40\.0% \/ −50\.0% \/ −10\.0%\s+3\/3/);
  });
});
