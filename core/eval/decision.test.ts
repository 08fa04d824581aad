import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTinyRun } from '../../test/helpers/tiny-run.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { loadRelevanceModel, predictLabels, saveRelevanceModel } from '../stages/relevance-model.ts';
import { crossFittedGrades, decidedMacroF1, decideGrade, decideSplits, fitDecisionOnValid, fitGradeOffsets } from './decision.ts';
import { macroF1FromCounts } from './metrics.ts';

function macroF1(pred: readonly number[], gold: readonly number[], k: number): number {
  const tp = new Array<number>(k).fill(0);
  const g = new Array<number>(k).fill(0);
  const p = new Array<number>(k).fill(0);
  pred.forEach((c, i) => {
    p[c]++;
    g[gold[i]]++;
    if (c === gold[i]) tp[c]++;
  });
  return macroF1FromCounts(tp, g, p);
}

/**
 * Three grades; grade 2 is rare (10%) and a calibrated-looking model never makes it the argmax:
 * its pairs get p(2) = 0.35 against 0.45 for grade 1, every other pair p(2) ≤ 0.1.
 */
function rareGradeCase(n: number): { probs: number[][]; gold: number[] } {
  const probs: number[][] = [];
  const gold: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = i % 10 === 0 ? 2 : i % 2;
    gold.push(g);
    probs.push(g === 2 ? [0.2, 0.45, 0.35] : g === 0 ? [0.7, 0.25, 0.05] : [0.25, 0.65, 0.1]);
  }
  return { probs, gold };
}

describe('decision rule (per-grade offsets fitted for macro-F1)', () => {
  it('early stopping ranks checkpoints by the macro-F1 of the grades the run reports: fitted rule or argmax', () => {
    const { probs, gold } = rareGradeCase(200);
    const argmax = macroF1(probs.map((r) => decideGrade(r)), gold, 3);
    expect(decidedMacroF1(probs, gold, 3, 'argmax')).toBeCloseTo(argmax, 12);
    // Argmax never names the rare grade; the fitted rule does, so the two rank checkpoints differently.
    expect(decidedMacroF1(probs, gold, 3, 'valid-macro-f1')).toBeCloseTo(fitGradeOffsets(probs, gold, 3).macroF1, 12);
    expect(decidedMacroF1(probs, gold, 3, 'valid-macro-f1')).toBeGreaterThan(argmax + 0.2);
  });

  it('decides by argmax without offsets and by log p + offset with them, ties to the better grade', () => {
    expect(decideGrade([0.2, 0.5, 0.3])).toBe(1);
    expect(decideGrade([0.5, 0.5])).toBe(0);
    expect(decideGrade([0.2, 0.5, 0.3], [0, 0, Math.log(0.5 / 0.3) + 1e-9])).toBe(2);
    expect(decideGrade([0, 1], [50, 0])).toBe(0); // a zero probability is floored, not -Infinity
  });

  it('finds offsets that predict a grade argmax never does, and keeps argmax when it is already best', () => {
    const { probs, gold } = rareGradeCase(200);
    const argmax = probs.map((p) => decideGrade(p));
    expect(argmax).not.toContain(2);
    const fit = fitGradeOffsets(probs, gold, 3);
    expect(fit.offsets[0]).toBe(0);
    const fitted = probs.map((p) => decideGrade(p, fit.offsets));
    expect(macroF1(fitted, gold, 3)).toBeCloseTo(fit.macroF1, 12);
    expect(fit.macroF1).toBe(1); // the rare grade's pairs are separable by their p(2)
    expect(macroF1(argmax, gold, 3)).toBeLessThan(0.7);
    // Already perfect by argmax: nothing moves.
    const clean = gold.map((g) => [0, 1, 2].map((c) => (c === g ? 0.8 : 0.1)));
    expect(fitGradeOffsets(clean, gold, 3).offsets).toEqual([0, 0, 0]);
  });

  it('decides each half of valid with offsets fitted on the other half', () => {
    // Even pairs: the rare grade shows up as p(2) = 0.35; odd pairs: nothing marks it, so a rule
    // fitted on the odd half cannot find it and the even half's rare pairs stay wrong out of fold.
    const { probs, gold } = rareGradeCase(200);
    const shifted = probs.map((p, i) => (i % 2 === 1 && gold[i] === 2 ? [0.2, 0.7, 0.1] : p));
    const outOfFold = crossFittedGrades(shifted, gold, 3);
    const inSample = fitGradeOffsets(shifted, gold, 3);
    const odd = fitGradeOffsets(shifted.filter((_, i) => i % 2 === 1), gold.filter((_, i) => i % 2 === 1), 3).offsets;
    shifted.forEach((p, i) => {
      if (i % 2 === 0) expect(outOfFold[i]).toBe(decideGrade(p, odd));
    });
    expect(macroF1(outOfFold, gold, 3)).toBeLessThan(inSample.macroF1);
    const { decision, validGrades } = fitDecisionOnValid(shifted, gold, 3);
    expect(validGrades).toEqual(outOfFold);
    expect(decision).toEqual({ version: 1, offsets: inSample.offsets, fitted_on: 'valid', n: 200, macro_f1: inSample.macroF1 });
  });

  it('decides the valid and test grades of a variant: fitted on valid, or argmax when asked or when valid is empty', () => {
    const { probs, gold } = rareGradeCase(200);
    const test = rareGradeCase(50).probs;
    const argmax = (rows: number[][]) => rows.map((r) => decideGrade(r));
    const fitted = decideSplits(3, { probs, gold }, test, 'valid-macro-f1');
    expect(fitted.decision!.offsets).toEqual(fitGradeOffsets(probs, gold, 3).offsets);
    expect(fitted.validGrades).toEqual(crossFittedGrades(probs, gold, 3));
    expect(fitted.testGrades).toEqual(test.map((r) => decideGrade(r, fitted.decision!.offsets)));
    expect(fitted.testGrades).toContain(2); // the rare grade, never an argmax
    expect(fitted.argmaxValidMacroF1).toBeCloseTo(macroF1(argmax(probs), gold, 3), 12);
    const plain = decideSplits(3, { probs, gold }, test, 'argmax');
    expect(plain).toEqual({ validGrades: argmax(probs), testGrades: argmax(test), argmaxValidMacroF1: fitted.argmaxValidMacroF1 });
    expect(decideSplits(3, { probs: [], gold: [] }, test, 'valid-macro-f1')).toEqual({ validGrades: [], testGrades: argmax(test), argmaxValidMacroF1: 0 });
  });

  it('travels with a saved model: loading applies it, and a rule of the wrong size is an error naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-decision-'));
    await writeTinyRun(dir, { steps: 4 });
    const modelDir = join(dir, 'checkpoints', 'sft_all');
    const pairs = generateDataset({ pairs: 30, seed: 9 }).pairs;
    const plain = loadRelevanceModel(modelDir);
    const labels = plain.scheme.labels;
    // An offset far larger than any log-probability gap makes the last grade win everywhere.
    const decision = { version: 1 as const, offsets: labels.map((_, i) => (i === labels.length - 1 ? 100 : 0)), fitted_on: 'valid', n: 1, macro_f1: 0 };
    const out = join(dir, 'with-rule');
    saveRelevanceModel(out, { ...plain, decision }, { step: plain.step, backend: 'test' });
    plain.model.dispose();
    const card = JSON.parse(readFileSync(join(out, 'lref-model.json'), 'utf8'));
    expect(card.decision).toEqual(decision);
    const ruled = loadRelevanceModel(out);
    expect(new Set(predictLabels(ruled, pairs).map((p) => p.label))).toEqual(new Set([labels[labels.length - 1]]));
    ruled.model.dispose();
    writeFileSync(join(out, 'lref-model.json'), JSON.stringify({ ...card, decision: { ...decision, offsets: [0, 1] } }));
    expect(() => loadRelevanceModel(out)).toThrow(new RegExp(`${join(out, 'lref-model.json')}: decision\\.offsets: 2 offsets for ${labels.length} labels`));
  });
});
