import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { LREF5 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { initBackend } from '../model/backend.ts';
import { ModelConfig, TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { RuleTeacher } from '../teachers/rules.ts';
import { trainLM } from '../train/loop.ts';
import { loadTemplate } from '../text/prompts.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import type { StageContext } from './context.ts';
import { cotExamples } from './cot-data.ts';
import { predictAtAnswer, predictWithRationale, readCotOutput, unparseableSummary } from './cot-predict.ts';
import { trainRunTokenizer, type RelevanceModel } from './relevance-model.ts';

const ee = loadTemplate('ee');
const label = loadTemplate('label');
const teacher = new RuleTeacher();

// Four pairs with four different grades: a model that memorises them must tell them apart.
const all = generateDataset({ pairs: 120, seed: 21, noise: 0 }).pairs;
const four: PairRecord[] = ['Exact', 'Marginal', 'Trivial', 'Irrelevant'].map((g) => all.find((p) => p.label === g)!);
const rationales = four.map((p) => teacher.write({ kind: 'ee', pair: p, scheme: LREF5, gold: p.label }));

let tok: Tokenizer;
let rm: RelevanceModel;

beforeAll(async () => {
  const backend = await initBackend('wasm');
  tok = trainRunTokenizer(four, [ee, label], 420, rationales);
  const modelConfig = ModelConfig.parse({ vocabSize: tok.vocabSize, contextLength: 192, dModel: 48, nHeads: 2, nLayers: 2, dropout: 0, seed: 5 });
  const ctx: StageContext = { tokenizer: tok, scheme: LREF5, modelConfig, trainConfig: TrainConfig.parse({}), seed: 1, backend };
  const examples = cotExamples(ctx, 'ee', four, four.map((p, i) => ({ pair_id: p.pair_id, kind: 'ee', rationale: rationales[i] })), ee);
  const model = new DecoderLM(modelConfig);
  const r = trainLM(model, examples, TrainConfig.parse({ steps: 80, batchSize: 4, lr: 1e-2, warmup: 5, seed: 2 }), { batch: { padTo: 'longest' } });
  r.optimizer.dispose();
  expect(r.losses[r.losses.length - 1]).toBeLessThan(0.1);
  rm = { model, tokenizer: tok, scheme: LREF5, template: label };
});
afterAll(() => rm.model.dispose());

describe('readCotOutput', () => {
  const ids = (...parts: string[]) => parts.flatMap((s) => (s.startsWith('<') ? [tok.tokenId(s)] : tok.encode(s)));

  it('reads the rationale and the grade after <answer>, and never guesses one', () => {
    // The run tokenizer lower-cases plain text, so the rationale reads back lower-cased; label tokens keep their case.
    const ok = readCotOutput(ids('<rationale>', ' same type. so Exact.', '<answer>', '<L:Exact>', '<eos>'), tok, LREF5);
    expect(ok).toEqual({ label: 'Exact', rationale: 'same type. so exact.', raw: '<rationale> same type. so exact.<answer><L:Exact><eos>', unparseable: false });
    const word = readCotOutput(ids('<rationale>', ' brand met.', '<answer>', ' marginal'), tok, LREF5);
    expect(word).toMatchObject({ label: 'Marginal', rationale: 'brand met.', unparseable: false });
    const cutOff = readCotOutput(ids('<rationale>', ' same type. brand Nike'), tok, LREF5);
    expect(cutOff).toMatchObject({ label: null, rationale: 'same type. brand nike', unparseable: true });
    const otherScheme = readCotOutput(ids('<rationale>', ' x', '<answer>', '<L:E>', '<eos>'), tok, LREF5);
    expect(otherScheme).toMatchObject({ label: null, unparseable: true, raw: '<rationale> x<answer><L:E><eos>' });
    const empty = readCotOutput(ids('<rationale>', ' x', '<answer>', '<eos>'), tok, LREF5);
    expect(empty).toMatchObject({ label: null, rationale: 'x', unparseable: true });
    expect(unparseableSummary([ok, word, cutOff, otherScheme, empty])).toEqual({ n: 5, unparseable: 3, share: 0.6 });
  });

  it('reads the answer-first layout: the first grade is the answer, a label inside the explanation is not', () => {
    const first = readCotOutput(ids('<answer>', '<L:Marginal>', '<rationale>', ' brand missed.', '<eos>'), tok, LREF5);
    expect(first).toEqual({ label: 'Marginal', rationale: 'brand missed.', raw: '<answer><L:Marginal><rationale> brand missed.<eos>', unparseable: false });
    const echo = readCotOutput(ids('<answer>', '<L:Trivial>', '<rationale>', ' not exact', '<answer>', '<L:Exact>', '<eos>'), tok, LREF5);
    expect(echo).toMatchObject({ label: 'Trivial', rationale: 'not exact' });
    const noGrade = readCotOutput(ids('<answer>', '<rationale>', ' same type', '<eos>'), tok, LREF5);
    expect(noGrade).toMatchObject({ label: null, rationale: 'same type', unparseable: true });
  });
});

describe('predictWithRationale', () => {
  it('generates the memorised rationale, then the grade (greedy, KV cache)', () => {
    const before = tf.memory().numTensors;
    const done: number[] = [];
    const preds = predictWithRationale(rm, four, { template: ee, batchSize: 1, onProgress: (d) => done.push(d) });
    expect(preds.map((p) => p.label)).toEqual(four.map((p) => p.label));
    expect(preds.map((p) => p.rationale)).toEqual(rationales.map((r) => r.toLowerCase())); // the run tokenizer lower-cases
    expect(preds.every((p) => !p.unparseable && p.raw.endsWith(`<eos>`) && p.logProb < 0 && p.logProb > -5)).toBe(true);
    expect(unparseableSummary(preds).unparseable).toBe(0);
    expect(done).toEqual([1, 2, 3, 4]);
    // Decoded together (the default batch, and batches of 3 + 1): the same outputs. The prompts are
    // then prefilled in one right-padded forward, which wasm rounds a little differently from a
    // one-prompt forward (bitwise equal on the cpu backend: generate-batch.test.ts), so the
    // log-probs agree to ~1e-8, not bitwise.
    const noLogProb = (ps: typeof preds) => ps.map(({ logProb: _, ...rest }) => rest);
    for (const batchSize of [undefined, 3]) {
      const seen: number[] = [];
      const together = predictWithRationale(rm, four, { template: ee, batchSize, onProgress: (d) => seen.push(d) });
      expect(noLogProb(together)).toEqual(noLogProb(preds));
      together.forEach((p, i) => expect(Math.abs(p.logProb - preds[i].logProb)).toBeLessThan(1e-6));
      expect(seen).toEqual(batchSize === 3 ? [3, 4] : [4]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('beam search keeps every beam read, best first; too little room is counted as unparseable', () => {
    const [greedyPred] = predictWithRationale(rm, four.slice(0, 1), { template: ee });
    const [beamPred] = predictWithRationale(rm, four.slice(0, 1), { template: ee, beam: 3 });
    expect(beamPred.beams).toHaveLength(3);
    expect(beamPred.label).toBe(greedyPred.label);
    expect(beamPred.raw).toBe(greedyPred.raw);
    expect(beamPred.beams![0].logProb).toBeGreaterThanOrEqual(beamPred.beams![1].logProb);
    const short = predictWithRationale(rm, four, { template: ee, maxNewTokens: 5 });
    expect(unparseableSummary(short)).toEqual({ n: 4, unparseable: 4, share: 1 });
    expect(short.every((p) => p.label === null && p.rationale.length > 0)).toBe(true);
  });

  it('answer-first: trains on <answer><L:x><rationale>… and generates the grade, then the rationale', () => {
    const first = { ...ee, answerFirst: true };
    const modelConfig = ModelConfig.parse({ ...rm.model.config, seed: 6 });
    const ctx: StageContext = { tokenizer: tok, scheme: LREF5, modelConfig, trainConfig: TrainConfig.parse({}), seed: 1, backend: 'wasm' };
    const examples = cotExamples(ctx, 'ee', four, four.map((p, i) => ({ pair_id: p.pair_id, kind: 'ee', rationale: rationales[i] })), first);
    expect(examples[0].completion.slice(0, 2)).toEqual([tok.tokenId('<answer>'), tok.tokenId(`<L:${four[0].label}>`)]);
    expect(examples[0].completion.at(-1)).toBe(tok.eosId);
    const model = new DecoderLM(modelConfig);
    try {
      const r = trainLM(model, examples, TrainConfig.parse({ steps: 80, batchSize: 4, lr: 1e-2, warmup: 5, seed: 2 }), { batch: { padTo: 'longest' } });
      r.optimizer.dispose();
      const preds = predictWithRationale({ ...rm, model }, four, { template: first });
      expect(preds.map((p) => p.label)).toEqual(four.map((p) => p.label));
      expect(preds.map((p) => p.rationale)).toEqual(rationales.map((x) => x.toLowerCase()));
      expect(preds.every((p) => p.raw.startsWith('<answer><L:'))).toBe(true);
      // The one-pass read at the answer position gives generation's grades.
      expect(predictAtAnswer({ ...rm, model }, four, { template: first })).toEqual(preds.map((p) => p.label));
      expect(() => predictAtAnswer({ ...rm, model }, four, { template: ee })).toThrow(/answer-first/);
    } finally {
      model.dispose();
    }
  });

  it('refuses a label-only template (that is predictLabels’ job)', () => {
    expect(() => predictWithRationale(rm, four)).toThrow(UserError);
    expect(() => predictWithRationale(rm, four, { template: ee, beam: 0 })).toThrow(/beam must be/);
  });
});
