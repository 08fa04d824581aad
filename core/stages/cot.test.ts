import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { LREF5 } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { initBackend } from '../model/backend.ts';
import { ModelConfig, TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { snapshotParams } from '../model/lm.ts';
import { fromDataTeacher } from '../teachers/from-data.ts';
import { RuleTeacher } from '../teachers/rules.ts';
import type { RationaleRequest, Teacher } from '../teachers/teacher.ts';
import { encodeCompletion, encodePrompt, HIGHLIGHT_TOKEN, loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import type { StageContext } from './context.ts';
import { collectRationales, cotExamples, disposeCot, inferenceKind, parseCotConfig, runCot } from './cot.ts';
import { textSpan } from '../text/prompts.ts';
import type { CotRationale } from './cot-data.ts';
import { predictLabels, trainRunTokenizer, type RelevanceModel } from './relevance-model.ts';

const data = generateDataset({ pairs: 200, seed: 4, noise: 0.1 });
const pairs = data.pairs;
const teacher = new RuleTeacher();
const templates = { label: loadTemplate('label'), ee: loadTemplate('ee'), ra: loadTemplate('ra'), dr: loadTemplate('dr') };

let ctx: StageContext;
let base: RelevanceModel;

beforeAll(async () => {
  const backend = await initBackend('wasm');
  // The run tokenizer sees the rationales too, as the pipeline's should (trainRunTokenizer extraTexts).
  const rationaleTexts = pairs.slice(0, 100).flatMap((p) => [
    teacher.write({ kind: 'ee', pair: p, scheme: LREF5, gold: p.label }),
    teacher.write({ kind: 'ra', pair: p, scheme: LREF5, gold: p.label }),
  ]);
  const tokenizer = trainRunTokenizer(pairs, Object.values(templates), 512, rationaleTexts);
  const modelConfig = ModelConfig.parse({ vocabSize: tokenizer.vocabSize, contextLength: 128, dModel: 32, nHeads: 2, nLayers: 1, dropout: 0, seed: 3 });
  const trainConfig = TrainConfig.parse({ steps: 3, batchSize: 4, warmup: 1, lr: 3e-3 });
  ctx = { tokenizer, scheme: LREF5, modelConfig, trainConfig, seed: 7, backend };
  base = { model: new DecoderLM(modelConfig), tokenizer, scheme: LREF5, template: templates.label };
});

/** An async teacher whose answers arrive out of order; counts requests in flight. */
function slowTeacher(failOn?: string): Teacher & { maxInFlight: number } {
  let inFlight = 0;
  const t = {
    id: 'slow',
    maxInFlight: 0,
    async rationale(req: RationaleRequest): Promise<string> {
      inFlight++;
      t.maxInFlight = Math.max(t.maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, (req.pair.pair_id.charCodeAt(7) % 3) * 2));
      inFlight--;
      if (req.pair.pair_id === failOn) throw new Error('model overloaded');
      return `about ${req.pair.pair_id}${req.wrong ? ` not ${req.wrong}` : ''}`;
    },
  };
  return t;
}

describe('collectRationales', () => {
  it('keeps pair order under concurrency, and limits requests in flight', async () => {
    const t = slowTeacher();
    const rs = await collectRationales(ctx, pairs.slice(0, 20), 'ee', t, new Rng(1), { concurrency: 3 });
    expect(rs.map((r) => r.pair_id)).toEqual(pairs.slice(0, 20).map((p) => p.pair_id));
    expect(rs.every((r, i) => r.rationale === `about ${pairs[i].pair_id}` && r.wrong === undefined)).toBe(true);
    expect(t.maxInFlight).toBe(3);
  });

  it('DR: draws a wrong decision per pair, never gold, the same for the same seed', async () => {
    const a = await collectRationales(ctx, pairs.slice(0, 50), 'dr', slowTeacher(), new Rng(9), { concurrency: 4 });
    const b = await collectRationales(ctx, pairs.slice(0, 50), 'dr', teacher, new Rng(9));
    expect(a.map((r) => r.wrong)).toEqual(b.map((r) => r.wrong));
    a.forEach((r, i) => {
      expect(r.wrong).not.toBe(pairs[i].label);
      expect(r.rationale).toBe(`about ${pairs[i].pair_id} not ${r.wrong}`);
    });
    expect(b[0].rationale.startsWith(`not ${b[0].wrong}: `)).toBe(true);
  });

  it('names the pair a teacher failed on (once, when the teacher already did)', async () => {
    const bad = pairs[6].pair_id;
    await expect(collectRationales(ctx, pairs.slice(0, 12), 'ra', slowTeacher(bad), new Rng(1))).rejects.toThrow(
      `pair ${bad}: teacher slow failed on its RA rationale: model overloaded`,
    );
    const err = await collectRationales(ctx, pairs.slice(0, 3), 'ee', fromDataTeacher('s.jsonl'), new Rng(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message.startsWith(`s.jsonl: pair ${pairs[0].pair_id}: field rationales.ee is missing`)).toBe(true);
  });
});

/**
 * The product-text length fitCot stops at when it has to cut the rationale: `floor` tokens of the
 * uncut prompt's product span (<hl> marks count, they take context), or one more when the floor-th
 * is a <hl> mark, because fitToContext drops a mark whose marked token was cut.
 */
function productLenAtFloor(template: PromptTemplate, pair: (typeof pairs)[number], r: CotRationale, floor: number): number {
  const tok = ctx.tokenizer;
  const prompt = encodePrompt(tok, template, pair, { scheme: LREF5, wrong_label: r.wrong });
  const span = textSpan(prompt, '<product>', tok);
  const f = Math.min(floor, span.len);
  return prompt[span.start + f - 1] === tok.tokenId(HIGHLIGHT_TOKEN) ? f + 1 : f;
}

describe('cotExamples', () => {
  it('lays out <rationale> text<answer><L:gold><eos>; the answer is never cut, the rationale only to keep the product visible', async () => {
    const cutCounts: Record<string, number> = {};
    for (const kind of ['ee', 'ra', 'dr'] as const) {
      const rs = await collectRationales(ctx, pairs, kind, teacher, new Rng(2));
      const stats = { promptCut: 0, rationaleCut: 0 };
      const ex = cotExamples(ctx, kind, pairs, rs, templates[kind], { stats });
      let cut = 0;
      ex.forEach((e, i) => {
        const text = ctx.tokenizer.decode(e.completion);
        // the uncut completion as the (lower-casing) run tokenizer gives it back
        const whole = ctx.tokenizer.decode(encodeCompletion(ctx.tokenizer, templates[kind], pairs[i].label, rs[i].rationale));
        expect(text).toMatch(/^<rationale> [^<]+<answer><L:(Exact|Significant|Marginal|Trivial|Irrelevant)><eos>$/);
        expect(text.endsWith(`<answer><L:${pairs[i].label}><eos>`)).toBe(true);
        expect(e.prompt.length + e.completion.length).toBeLessThanOrEqual(128);
        // every <hl> mark is followed by the text token it marks, even where product text was cut
        const hl = ctx.tokenizer.tokenId(HIGHLIGHT_TOKEN);
        expect(e.prompt.filter((id, j) => id === hl && (j + 1 === e.prompt.length || ctx.tokenizer.isSpecial(e.prompt[j + 1])))).toEqual([]);
        if (text !== whole) {
          cut++;
          expect(whole.startsWith(text.slice(0, text.indexOf('<answer>')))).toBe(true); // only the rationale's end went
          // …and only as far as the product needed
          const productLen = productLenAtFloor(templates[kind], pairs[i], rs[i], 24);
          expect(textSpan(e.prompt, '<product>', ctx.tokenizer).len).toBe(productLen);
        }
      });
      expect(stats.rationaleCut).toBe(cut);
      cutCounts[kind] = cut;
      // The built-in templates mark shared terms with <hl> (in the query and the product, never in
      // the rules); the run tokenizer lower-cases, so decoded text comes back lower-cased.
      const prompt0 = ctx.tokenizer.decode(ex[0].prompt);
      const unmarked0 = prompt0.replaceAll(HIGHLIGHT_TOKEN, '');
      expect(ex.some((e) => ctx.tokenizer.decode(e.prompt).includes(HIGHLIGHT_TOKEN))).toBe(true);
      if (kind === 'dr') expect(unmarked0.startsWith(`<bos><wrong><L:${rs[0].wrong}><query> ${pairs[0].query.toLowerCase()}<sep> title `)).toBe(true);
      if (kind === 'ra') {
        const rules = templates.ra.defaults!.rules.toLowerCase();
        const rulesWhole = ex.filter((e) => ctx.tokenizer.decode(e.prompt).startsWith(`<bos><rules> ${rules}<query>`)).length;
        expect(rulesWhole).toBeGreaterThan(60);
        expect(ex.every((e) => ctx.tokenizer.decode(e.prompt).startsWith('<bos><rules>'))).toBe(true);
      }
    }
    // At vocab 512 and 128 tokens a few long rationales give way (RA also carries the rules text).
    // Measured: ee 9, ra 33, dr 2 with the {match} line; ee 1, ra 12, dr 2 without it (one <hl> per
    // shared word); with one mark per shared BPE piece ee 9, ra 27, dr 2; before any marks ee 5, ra 23, dr 2.
    expect(cutCounts).toEqual({ ee: 9, ra: 33, dr: 2 });
    // The case where the 24th product token is a <hl> mark (one more token kept) no longer occurs
    // among these 15 cut examples now that marks are one per word; where it does, the per-example
    // check above (productLenAtFloor) covers it.
  });

  it('shortens the prompt before the rationale, and the rationale only as far as the product needs', async () => {
    const rs = await collectRationales(ctx, pairs.slice(0, 30), 'ee', teacher, new Rng(2));
    const full = cotExamples(ctx, 'ee', pairs.slice(0, 30), rs, templates.ee);
    const small = { ...ctx, modelConfig: { ...ctx.modelConfig, contextLength: 64 } };
    const stats = { promptCut: 0, rationaleCut: 0 };
    const cut = cotExamples(small, 'ee', pairs.slice(0, 30), rs, templates.ee, { stats, minProductTokens: 12 });
    const tail = (ids: number[]) => ctx.tokenizer.decode(ids.slice(-3));
    let shorter = 0;
    cut.forEach((e, i) => {
      expect(e.prompt.length + e.completion.length).toBeLessThanOrEqual(64);
      expect(tail(e.completion)).toBe(tail(full[i].completion)); // <answer><L:gold><eos> always whole
      if (e.completion.length < full[i].completion.length) {
        shorter++;
        // cut no further than needed: exactly 12 product tokens remain (one more rationale token would
        // not fit), or 13 when the 12th is a <hl> mark that would have nothing to mark
        expect(textSpan(e.prompt, '<product>', ctx.tokenizer).len).toBe(productLenAtFloor(templates.ee, pairs[i], rs[i], 12));
      } else expect(e.completion).toEqual(full[i].completion);
    });
    expect(stats.promptCut).toBe(30);
    expect(stats.rationaleCut).toBe(shorter);
    expect(shorter).toBeGreaterThan(0);
    expect(shorter).toBeLessThan(30);
  });
});

describe('CotConfig and helpers', () => {
  it('defaults to EE → RA → DR sequential with a quarter label-only, and rejects bad fields by name', () => {
    expect(parseCotConfig({})).toMatchObject({ version: 1, order: ['ee', 'ra', 'dr'], mix: 'sequential', keepLabelOnly: 0.25, templates: {} });
    expect(() => parseCotConfig({ order: ['ee', 'ee'] })).toThrow(/order: a kind may appear once/);
    expect(() => parseCotConfig({ mix: 'interleaved' })).toThrow(/mix/);
    expect(() => parseCotConfig({ stepz: 3 })).toThrow(UserError);
  });

  it('refuses a base model shaped for another context', async () => {
    const other = { ...ctx, modelConfig: { ...ctx.modelConfig, contextLength: 64 } };
    await expect(runCot(other, base, pairs.slice(0, 4), {}, teacher)).rejects.toThrow('cot: the base model (context 128, vocab');
  });

  it('asks a DR checkpoint with the last other kind it learnt', () => {
    expect(inferenceKind(['ee'])).toBe('ee');
    expect(inferenceKind(['ee', 'ra', 'dr'])).toBe('ra');
    expect(inferenceKind(['ra', 'ee', 'dr'])).toBe('ee');
    expect(inferenceKind(['dr'])).toBe('ee');
  });

  it('DecoderLM.clone copies weights into variables of its own', () => {
    const before = tf.memory().numTensors;
    const copy = base.model.clone();
    const name = 'h0.attn.wq';
    expect(copy.params().get(name)!.dataSync()).toEqual(base.model.params().get(name)!.dataSync());
    tf.tidy(() => copy.params().get(name)!.assign(tf.zerosLike(copy.params().get(name)!)));
    expect(Math.abs(base.model.params().get(name)!.dataSync()[0])).toBeGreaterThan(0);
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('runCot (smoke preset sizes, plumbing only)', () => {
  const snapshot = snapshotParams;
  const differs = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => [...a].some(([name, x]) => x.some((v, j) => v !== b.get(name)![j]));

  it('sequential: +ee, +ra, +dr checkpoints, each continuing the previous one; base untouched; no tensor leaks', async () => {
    const baseBefore = snapshot(base.model);
    const tensorsBefore = tf.memory().numTensors;
    const lines: string[] = [];
    const progress: string[] = [];
    const res = await runCot({ ...ctx, log: (l) => lines.push(l), progress: (s) => progress.push(s) }, base, pairs, { steps: 3 }, teacher);
    expect(res.variants.map((v) => v.name)).toEqual(['+ee', '+ra', '+dr']);
    expect(res.variants.map((v) => v.cotTemplate.kind)).toEqual(['ee', 'ra', 'ra']);
    for (const v of res.variants) {
      expect(v.losses).toHaveLength(3);
      expect(v.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      // 200 CoT examples + round(200 · 0.25 / 0.75) label-only
      expect(v.examples).toMatchObject({ cot: 200, labelOnly: 67 });
      expect(v.examples.rationaleCut).toBeLessThanOrEqual(40);
      expect(v.model.template.kind).toBe('label');
    }
    expect(res.rationales.dr).toHaveLength(200);
    expect(res.teacher).toBe('rules');
    expect(differs(snapshot(base.model), baseBefore)).toBe(false);
    const [ee, ra, dr] = res.variants.map((v) => snapshot(v.model.model));
    expect(differs(ee, baseBefore) && differs(ra, ee) && differs(dr, ra)).toBe(true);
    expect(lines.filter((l) => /^cot\/(ee|ra|dr): 3 steps on 200 CoT \+ 67 label-only/.test(l))).toHaveLength(3);
    expect(new Set(progress)).toEqual(new Set(['cot/ee/teacher', 'cot/ra/teacher', 'cot/dr/teacher', 'cot/ee', 'cot/ra', 'cot/dr']));
    // The scoring path still works on a CoT variant: its RelevanceModel carries the label template.
    const scored = predictLabels(res.variants[2].model, pairs.slice(0, 5));
    expect(scored.every((p) => Math.abs(Object.values(p.probs).reduce((a, b) => a + b, 0) - 1) < 1e-4)).toBe(true);
    disposeCot(res);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('mixed: one run on the union, steps × kinds', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const res = await runCot(ctx, base, pairs.slice(0, 60), { mix: 'mixed', order: ['ee', 'dr'], steps: 2, keepLabelOnly: 0 }, teacher);
    expect(res.variants).toHaveLength(1);
    expect(res.variants[0]).toMatchObject({ name: '+cot', kind: 'mixed', examples: { cot: 120, labelOnly: 0 } });
    expect(res.variants[0].losses).toHaveLength(4);
    expect(res.variants[0].cotTemplate.kind).toBe('ee');
    disposeCot(res);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('control: "+label" trains the same pairs for one kind’s steps, label-only; answerFirst reaches the templates', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const on = pairs.slice(0, 20);
    const res = await runCot(ctx, base, on, { order: ['ee'], steps: 3, control: true, answerFirst: true }, teacher);
    expect(res.control!.losses).toHaveLength(3);
    // the pairs themselves, not only the step count: every one of the 20, as +ee's CoT examples
    expect(res.variants[0].pairs).toEqual(on.map((p) => p.pair_id));
    expect(res.control!.pairs).toEqual(res.variants[0].pairs);
    expect(res.control!.examples).toBe(res.variants[0].examples.cot);
    expect(res.control!.model.template.kind).toBe('label');
    expect(res.variants[0].cotTemplate.answerFirst).toBe(true);
    // a model of its own: not the base's weights object, nor the +ee variant's
    expect(res.control!.model.model).not.toBe(base.model);
    expect(res.control!.model.model).not.toBe(res.variants[0].model.model);
    expect(res.control!.losses.every(Number.isFinite)).toBe(true);
    disposeCot(res);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(parseCotConfig({}).control).toBe(false);
  });

  it('an interrupt during training frees what was made and says where it stopped', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const ac = new AbortController();
    const run = runCot(
      { ...ctx, signal: ac.signal, progress: (stage, done) => stage === 'cot/ra' && done === 2 && ac.abort() },
      base,
      pairs.slice(0, 40),
      { steps: 3 },
      teacher,
    );
    await expect(run).rejects.toThrow('cot/ra: interrupted at step 2 of 3');
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
