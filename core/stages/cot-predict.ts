import type { LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { beamSearchBatch, greedyBatch, type Beam } from '../train/generate.ts';
import { scoreLabels } from '../train/score.ts';
import { encodePrompt, fitToContext, parseAnswer, textSpan, type PromptTemplate } from '../text/prompts.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { MIN_PRODUCT_TOKENS } from './cot-data.ts';
import type { RelevanceModel } from './relevance-model.ts';
import { decideGrade } from '../eval/decision.ts';

/**
 * Inference for CoT variants, as the paper does it: the model writes its rationale, then the grade.
 *
 * Two ways to ask a CoT-tuned model for a grade:
 *   - generation (this file): the kind's prompt (ee/ra/dr template) + `<rationale>`, decoded until
 *     `<eos>`; the grade is parsed from after `<answer>`. Slower (one decode step per token) but it
 *     is what CoT tuning trains, and it yields the rationale to show and to mine for DPO.
 *   - scoring (`predictLabels` in relevance-model.ts): the label template's prompt, one forward
 *     pass, argmax over the label tokens. Still meaningful on a CoT model because runCot mixes in
 *     label-only examples (CotConfig.keepLabelOnly), but it skips the reasoning the variant learnt.
 * The pipeline should report generation for CoT variants (their headline numbers, as in LREF) and
 * may report scoring beside it as a cheap check.
 *
 * An output whose grade cannot be read is counted as unparseable and kept with its raw text: it is
 * never mapped to a guessed label (the metrics count it as an error).
 */
export interface CotPrediction {
  /** the parsed grade, or null when the output names none */
  label: string | null;
  /** the text between <rationale> and <answer> (or the end of the output) */
  rationale: string;
  /** the whole decoded continuation, starting with <rationale> */
  raw: string;
  unparseable: boolean;
  /** Σ log p of the generated tokens */
  logProb: number;
  /** beam > 1: every beam read the same way, best first (the first is this prediction) */
  beams?: Omit<CotPrediction, 'beams'>[];
}

export interface PredictCotOptions {
  /** the CoT prompt (ee/ra/dr template); default rm.template when it is a CoT template */
  template?: PromptTemplate;
  /** 1 (default) is greedy decoding; more runs beam search and keeps the best beam */
  beam?: number;
  /** room for rationale + answer; default 64 (a ≤ 25-word rationale is about 30–45 tokens) */
  maxNewTokens?: number;
  /** beam search only: rank by logProb / length^alpha (default 0: raw log-prob) */
  lengthPenalty?: number;
  /** RA prompts: the rules text (default the template's) */
  rules?: string;
  /** DR prompts: the decision to reflect on, per pair (default none: the <wrong> slot stays empty) */
  wrongLabels?: readonly (string | undefined)[];
  /** prompts decoded together (× beam rows for beam search); default 32. Outputs do not depend on it. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_COT_MAX_NEW_TOKENS = 64;

export function predictWithRationale(rm: RelevanceModel, pairs: readonly PairRecord[], opts: PredictCotOptions = {}): CotPrediction[] {
  const template = opts.template ?? rm.template;
  if (template.kind === 'label') {
    throw new UserError(`predictWithRationale needs a CoT prompt template (ee, ra or dr); "${template.id}" is label-only (use predictLabels)`);
  }
  const tok = rm.tokenizer;
  const maxNew = opts.maxNewTokens ?? DEFAULT_COT_MAX_NEW_TOKENS;
  const beam = opts.beam ?? 1;
  if (!(Number.isInteger(beam) && beam >= 1)) throw new UserError(`beam must be a whole number ≥ 1, got ${beam}`);
  const { start, prompts } = cotPrompts(rm, template, pairs, opts);
  const stop = [tok.eosId];
  // Decoded a batch at a time (generate.ts: the same tokens as one by one); progress and abort between batches.
  const batch = Math.max(1, opts.batchSize ?? 32);
  const out: CotPrediction[] = [];
  for (let at = 0; at < prompts.length; at += batch) {
    if (opts.signal?.aborted) throw new UserError(`CoT generation interrupted after ${at} of ${pairs.length} pairs`);
    const chunk = prompts.slice(at, at + batch);
    if (beam === 1) {
      for (const b of greedyBatch(rm.model, chunk, { maxNewTokens: maxNew, stopTokens: stop, rows: batch })) out.push(readBeam(b, start, tok, rm.scheme));
    } else {
      const found = beamSearchBatch(rm.model, chunk, { beamWidth: beam, maxNewTokens: maxNew, stopTokens: stop, lengthPenalty: opts.lengthPenalty, rows: batch * beam });
      for (const bs of found) {
        const beams = bs.map((b) => readBeam(b, start, tok, rm.scheme));
        out.push({ ...beams[0], beams });
      }
    }
    opts.onProgress?.(out.length, pairs.length);
  }
  return out;
}

/** Each pair's prompt as generation sees it, ending with the token the model writes first (`start`). */
function cotPrompts(rm: RelevanceModel, template: PromptTemplate, pairs: readonly PairRecord[], opts: PredictCotOptions): { start: number; prompts: number[][] } {
  const tok = rm.tokenizer;
  const maxNew = opts.maxNewTokens ?? DEFAULT_COT_MAX_NEW_TOKENS;
  // What the model writes first: <rationale>, or <answer> when the template puts the grade first.
  const start = tok.tokenId(template.answerFirst ? '<answer>' : '<rationale>');
  const prompts = pairs.map((pair, i) => [
    ...fitPrompt(encodePrompt(tok, template, pair, { scheme: rm.scheme, rules: opts.rules, wrong_label: opts.wrongLabels?.[i] }), maxNew, rm.model.config.contextLength, tok),
    start,
  ]);
  return { start, prompts };
}

/**
 * An answer-first CoT model's grades without writing the rationales: the same prompts as generation,
 * one forward pass, argmax over the grade tokens at the answer position. Generation's grade is the
 * same whenever its greedy first token is a grade (it is the argmax over every token there); cheap
 * enough to check a policy on the valid split every few training steps.
 */
export function predictAtAnswer(rm: RelevanceModel, pairs: readonly PairRecord[], opts: Pick<PredictCotOptions, 'template' | 'maxNewTokens' | 'rules' | 'batchSize'> = {}): string[] {
  const template = opts.template ?? rm.template;
  if (!template.answerFirst) throw new UserError(`predictAtAnswer needs an answer-first CoT template; "${template.id}" writes its rationale first`);
  const { prompts } = cotPrompts(rm, template, pairs, opts);
  const probs = scoreLabels(rm.model, prompts, rm.tokenizer.labelTokenIds(rm.scheme), opts.batchSize ?? 64, { padId: rm.tokenizer.padId });
  return probs.map((row) => rm.scheme.labels[decideGrade(row)]);
}

/**
 * The prompt shortened as in training (rules and product text, longest first) to leave `room` tokens
 * for the output, but keeping MIN_PRODUCT_TOKENS of product text: a shorter room is better than a
 * rationale about a product the model cannot see (generation stops at the context's end anyway).
 */
function fitPrompt(prompt: number[], room: number, C: number, tok: Tokenizer): number[] {
  const floor = Math.min(MIN_PRODUCT_TOKENS, textSpan(prompt, '<product>', tok).len);
  // +1 for the <rationale> token appended after the prompt.
  for (let reserve = Math.min(room + 1, C); reserve >= 1; reserve--) {
    let fitted: number[];
    try {
      fitted = fitToContext(prompt, new Array<number>(reserve).fill(tok.eosId), C, tok).promptIds;
    } catch {
      continue;
    }
    if (textSpan(fitted, '<product>', tok).len >= floor || reserve === 1) return fitted;
  }
  return prompt; // the markers alone fill the context: generate in whatever room is left
}

function readBeam(b: Beam, start: number, tok: Tokenizer, scheme: LabelScheme): Omit<CotPrediction, 'beams'> {
  return { ...readCotOutput([start, ...b.tokens], tok, scheme), logProb: b.logProb };
}

/**
 * Reads generated ids into rationale + grade; never guesses a grade. Either layout: `<rationale> text
 * <answer><L:x>` or, answer first, `<answer><L:x><rationale> text`. The rationale is the text after
 * <rationale> up to the next <answer>/<eos>; the grade is the first label after the *first* <answer>
 * when the output starts with it (a later "<answer>" inside the explanation does not override it).
 */
export function readCotOutput(ids: readonly number[], tok: Tokenizer, scheme: LabelScheme): Omit<CotPrediction, 'beams' | 'logProb'> {
  const raw = tok.decode(ids);
  const at = raw.indexOf('<rationale>');
  const body = at >= 0 ? raw.slice(at + '<rationale>'.length) : raw;
  const end = [body.indexOf('<answer>'), body.indexOf('<eos>')].filter((x) => x >= 0);
  const rationale = (end.length > 0 ? body.slice(0, Math.min(...end)) : body).trim();
  const answerFirst = raw.startsWith('<answer>');
  const parsed = parseAnswer(answerFirst ? (at >= 0 ? raw.slice(0, at) : raw) : raw, scheme);
  return 'label' in parsed ? { label: parsed.label, rationale, raw, unparseable: false } : { label: null, rationale, raw, unparseable: true };
}

/** How many outputs named no grade (shown beside the metrics, which count them as errors). */
export function unparseableSummary(preds: readonly Pick<CotPrediction, 'unparseable'>[]): { n: number; unparseable: number; share: number } {
  const unparseable = preds.filter((p) => p.unparseable).length;
  return { n: preds.length, unparseable, share: preds.length === 0 ? 0 : unparseable / preds.length };
}
