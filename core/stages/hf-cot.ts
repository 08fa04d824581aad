import type { PairRecord } from '../data/schema.ts';
import type { HFCausalLM } from '../model/hf/base.ts';
import type { CotKind } from '../teachers/teacher.ts';
import type { PromptTemplate } from '../text/prompts.ts';
import type { LMExample } from '../train/batch.ts';
import { beamSearchBatch, greedyBatch, type Beam } from '../train/generate.ts';
import { UserError } from '../util/errors.ts';
import type { CotEncoding } from './cot.ts';
import type { CotExampleStats, CotRationale } from './cot-data.ts';
import type { StageExample } from '../runs/schema.ts';
import type { CotPrediction } from './cot-predict.ts';
import { MineConfig, mineSummary, pickPreference, type MineConfigInput, type PreferencePair, type SkipReason } from './dpo-mine.ts';
import { eosId, hfLabelExamples, padId, promptText, type HFRelevanceModel } from './hf-relevance.ts';
import type { JudgeContext } from './context.ts';

/**
 * Multi-CoT on an imported model (hf-pipeline.ts): the built-in CoT stage (runCotWith) and DPO loop
 * (dpoTrain) with prompts in the model's own words. The ee/ra/dr templates' markers (<query>,
 * <rationale>, <answer>, <L:x>) are not in a pretrained vocabulary, so a CoT prompt is the label
 * instruction with the kind's task in front of the grade (through the chat template where there is
 * one), and the completion is text the model's tokenizer encodes:
 *
 *   prompt … Reasoning:      completion  " <rationale>\nAnswer: <Grade>" + eos
 *   prompt … Answer:         completion  " <Grade>\nReasoning: <rationale>" + eos    (answerFirst)
 *
 * The grade is read back from the generated text after the first "Answer:" (readHFCot); an output
 * that names no grade is unparseable, never guessed. The templates still decide the kind and
 * answerFirst, and RA's default rules text.
 */

const ANSWER = 'Answer:';
const REASONING = 'Reasoning:';
/** Title words a prompt keeps before the rationale is shortened instead (the built-in's MIN_PRODUCT_TOKENS, in words). */
const MIN_TITLE_WORDS = 8;

export interface HFCotAsk {
  /** the kind's template: its kind, answerFirst and default rules are used */
  template: PromptTemplate;
  /** RA: the rules text (default the template's) */
  rules?: string;
  /** DR: the wrong decision to reflect on */
  wrong?: string;
}

/** What the model is asked to write before the grade, per kind (LREF's EE / RA / DR). */
function task(ask: HFCotAsk): string {
  const kind = ask.template.kind as CotKind;
  if (kind === 'ee') return 'Explain briefly how category, brand, attributes and keywords match';
  if (kind === 'ra') {
    const rules = ask.rules ?? ask.template.defaults?.rules ?? '';
    return rules ? `Apply these grading rules briefly (${rules})` : 'Apply the grading rules briefly';
  }
  if (ask.wrong === undefined) throw new UserError('a DR prompt needs the wrong decision');
  return `A first judgement graded it ${ask.wrong}, which is wrong. Explain briefly why`;
}

const lead = (t: PromptTemplate) => (t.answerFirst ? ANSWER : REASONING);

/** The CoT prompt's text. */
function cotPrompt(rm: HFRelevanceModel, pair: Pick<PairRecord, 'query' | 'title'>, ask: HFCotAsk): string {
  return promptText(rm.tokenizer, rm.scheme, pair, { task: task(ask), lead: lead(ask.template) });
}

/** One example as text: the prompt, and the completion after its lead (see the file comment). */
function cotText(rm: HFRelevanceModel, pair: Pick<PairRecord, 'query' | 'title'>, ask: HFCotAsk, gold: string, rationale: string): { prompt: string; completion: string } {
  const why = rationale.replace(/\s+/gu, ' ').trim();
  return { prompt: cotPrompt(rm, pair, ask), completion: ask.template.answerFirst ? ` ${gold}\n${REASONING} ${why}` : ` ${why}\n${ANSWER} ${gold}` };
}

/**
 * Prompt and completion ids of one example: the whole text encoded at once (so the tokens are those
 * the model reads back), split where the prompt's own encoding stops matching it.
 */
function cotIds(rm: HFRelevanceModel, pair: Pick<PairRecord, 'query' | 'title'>, ask: HFCotAsk, gold: string, rationale: string): LMExample {
  const text = cotText(rm, pair, ask, gold, rationale);
  const prompt = rm.tokenizer.encode(text.prompt);
  const full = rm.tokenizer.encode(text.prompt + text.completion);
  let n = 0;
  while (n < prompt.length && n < full.length && prompt[n] === full[n]) n++;
  const eos = eosId(rm);
  return { prompt: full.slice(0, n), completion: [...full.slice(n), ...(eos === undefined ? [] : [eos])] };
}

/** The parts of an example that may give way to fit the context. */
interface Parts {
  title: string;
  /** RA's rules text ('' for the other kinds) */
  rules: string;
  rationale: string;
}

const FIT_ORDER: [keyof Parts, number][] = [['title', MIN_TITLE_WORDS], ['rules', 0], ['rationale', 1], ['title', 1]];
const wordCount = (text: string) => (text === '' ? 0 : text.split(' ').length);

/**
 * Shortens `parts` by words until `fits`, in the built-in's order (fitCot): the title down to
 * MIN_TITLE_WORDS, then RA's rules, then the rationale (to one word), then the rest of the title.
 * Returns the last try, fitting or not.
 */
function shrink(parts: Parts, fits: (p: Parts) => boolean, order: [keyof Parts, number][] = FIT_ORDER): Parts {
  let p = parts;
  for (const [key, floor] of order) {
    while (!fits(p) && wordCount(p[key]) > floor) {
      const words = p[key].split(' ');
      p = { ...p, [key]: words.slice(0, Math.max(floor, Math.floor(words.length * 0.8))).join(' ') };
    }
  }
  return p;
}

const partsOf = (pair: PairRecord, ask: HFCotAsk, rationale = ''): Parts => ({
  title: pair.title,
  rules: ask.template.kind === 'ra' ? (ask.rules ?? ask.template.defaults?.rules ?? '') : '',
  rationale,
});
const askWith = (ask: HFCotAsk, p: Parts): HFCotAsk => (ask.template.kind === 'ra' ? { ...ask, rules: p.rules } : ask);

/** One training example fitted to the context (see shrink); the grade and eos are never cut. */
function fitCotExample(rm: HFRelevanceModel, pair: PairRecord, ask: HFCotAsk, rationale: string, stats: CotExampleStats): LMExample {
  const C = rm.model.config.contextLength;
  const build = (p: Parts) => cotIds(rm, { query: pair.query, title: p.title }, askWith(ask, p), pair.label, p.rationale);
  const whole = partsOf(pair, ask, rationale);
  const p = shrink(whole, (q) => {
    const ex = build(q);
    return ex.prompt.length + ex.completion.length <= C;
  });
  const ex = build(p);
  if (ex.prompt.length + ex.completion.length > C) throw new UserError(`pair ${pair.pair_id}: its CoT example does not fit the context (${C} tokens) even with a one-word title and rationale`);
  if (p.title !== whole.title || p.rules !== whole.rules) stats.promptCut++;
  if (p.rationale !== whole.rationale) stats.rationaleCut++;
  return ex;
}

/** A prompt to generate from, leaving `room` tokens where it can (title to MIN_TITLE_WORDS, then RA's rules). */
function fitCotPrompt(rm: HFRelevanceModel, pair: PairRecord, ask: HFCotAsk, room: number): { ids: number[]; title: string; ask: HFCotAsk } {
  const encode = (p: Parts) => rm.tokenizer.encode(cotPrompt(rm, { query: pair.query, title: p.title }, askWith(ask, p)));
  const whole = partsOf(pair, ask);
  const fits = (p: Parts) => encode(p).length + room <= rm.model.config.contextLength;
  // Never below MIN_TITLE_WORDS: a shorter room is better than a rationale about a product the model cannot see.
  const p = shrink(whole, fits, FIT_ORDER.slice(0, 2));
  return { ids: encode(p), title: p.title, ask: askWith(ask, p) };
}

/** runCotWith's encoding for an imported model: CoT examples as above, label-only examples as label SFT has them. */
export function hfCotEncoding(rm: HFRelevanceModel): CotEncoding<HFCausalLM, HFRelevanceModel> {
  return {
    cotExamples: (kind, pairs, rationales, template, opts) => {
      const stats = opts.stats ?? { promptCut: 0, rationaleCut: 0 };
      return pairs.map((p, i) => {
        const r = rationales[i];
        if (r.pair_id !== p.pair_id) throw new UserError(`rationale ${i} is for pair ${r.pair_id}, not ${p.pair_id}`);
        return fitCotExample(rm, p, { template, rules: opts.rules, wrong: r.wrong }, r.rationale, stats);
      });
    },
    labelExamples: (pairs) => hfLabelExamples(rm, pairs),
    padId: padId(rm),
    contextLength: rm.model.config.contextLength,
    judge: (model) => ({ ...rm, model }),
  };
}

/**
 * Reads a generated continuation (the text after the prompt's lead) into rationale and grade. The
 * grade is the word after the first "Answer:", matched to the scheme's grade names (any case); none
 * there: unparseable. The rationale is the text after "Reasoning:" up to a later "Answer:".
 */
export function readHFCot(text: string, template: PromptTemplate, labels: readonly string[]): Omit<CotPrediction, 'beams' | 'logProb'> {
  const raw = lead(template) + text;
  const a = raw.indexOf(ANSWER);
  const word = a < 0 ? undefined : raw.slice(a + ANSWER.length).trim().split(/[^\p{L}\p{N}]+/u)[0]?.toLowerCase();
  const label = labels.find((l) => l.toLowerCase() === word) ?? null;
  const r = raw.indexOf(REASONING);
  const after = r < 0 ? '' : raw.slice(r + REASONING.length);
  const end = after.indexOf(ANSWER);
  const rationale = (end < 0 ? after : after.slice(0, end)).trim();
  return { label, rationale, raw, unparseable: label === null };
}

export interface HFCotGenerateOptions extends HFCotAsk {
  maxNewTokens: number;
  /** 1: greedy (default); more: beam search, the best beam first */
  beam?: number;
  /** prompts decoded together (outputs do not depend on it); default 32 */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** predictWithRationale for an imported model: the CoT prompt decoded by the batched generation API, grades parsed. */
export function generateHFCot(rm: HFRelevanceModel, pairs: readonly PairRecord[], opts: HFCotGenerateOptions): CotPrediction[] {
  return decodeHFCot(rm, pairs.map((p) => fitCotPrompt(rm, p, opts, opts.maxNewTokens).ids), opts).map((beams) => {
    const read = beams.map(({ tokens: _tokens, ...b }) => b);
    return { ...read[0], beams: read };
  });
}

/** One beam read by readHFCot, with its tokens (what mining keeps). */
type ReadBeam = Omit<CotPrediction, 'beams'> & { tokens: number[] };

/** Every prompt's beams (one for greedy), best first. */
function decodeHFCot(rm: HFRelevanceModel, prompts: number[][], opts: HFCotGenerateOptions): ReadBeam[][] {
  const eos = eosId(rm);
  const stop = eos === undefined ? [] : [eos];
  const beam = opts.beam ?? 1;
  const batch = Math.max(1, opts.batchSize ?? 32);
  const read = (b: Beam): ReadBeam => ({ ...readHFCot(rm.tokenizer.decode(b.tokens.filter((t) => !stop.includes(t))), opts.template, rm.scheme.labels), logProb: b.logProb, tokens: b.tokens });
  const out: ReadBeam[][] = [];
  for (let at = 0; at < prompts.length; at += batch) {
    if (opts.signal?.aborted) throw new UserError(`CoT generation interrupted after ${at} of ${prompts.length} pairs`);
    const chunk = prompts.slice(at, at + batch);
    const found = beam === 1
      ? greedyBatch(rm.model, chunk, { maxNewTokens: opts.maxNewTokens, stopTokens: stop, rows: batch }).map((b) => [b])
      : beamSearchBatch(rm.model, chunk, { beamWidth: beam, maxNewTokens: opts.maxNewTokens, stopTokens: stop, rows: batch * beam });
    for (const bs of found) out.push(bs.map(read));
    opts.onProgress?.(out.length, prompts.length);
  }
  return out;
}

/**
 * LREF's preference mining (dpo-mine.ts) on an imported model: beam search on the policy's CoT
 * prompt, each beam's grade read as predictions are, and the same decision per pair
 * (pickPreference): rejected = a wrong top-1 beam, chosen = the best beam with the gold grade, else
 * the teacher's rationale with the gold grade. `pairs` carry the teacher's rationale of the
 * template's kind.
 */
export function mineHFPreferences(
  ctx: Pick<JudgeContext, 'log' | 'progress' | 'signal'>,
  policy: HFRelevanceModel,
  pairs: readonly PairRecord[],
  ask: Omit<HFCotAsk, 'wrong'>,
  cfgInput: MineConfigInput = {},
): PreferencePair[] {
  const cfg = MineConfig.parse(cfgInput);
  const kind = ask.template.kind;
  if (kind !== 'ee' && kind !== 'ra') throw new UserError(`mining needs the answering CoT prompt (ee or ra), not ${kind}`);
  const C = policy.model.config.contextLength;
  const room = Math.min(cfg.maxNewTokens, Math.floor(C / 2));
  const fitted = pairs.map((p) => fitCotPrompt(policy, p, ask, room));
  const prompts = fitted.map((f) => f.ids);
  const decoded = decodeHFCot(policy, prompts, {
    ...ask,
    maxNewTokens: room,
    beam: cfg.beamWidth,
    batchSize: cfg.decodeBatchSize,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress?.('dpo/mine', done, total),
  });
  const out: PreferencePair[] = [];
  const skipped: Record<SkipReason, number> = { correct: 0, 'not-optimistic': 0, 'no-correct-beam': 0, 'no-teacher': 0, 'empty-output': 0 };
  pairs.forEach((pair, i) => {
    // The teacher's completion, its rationale cut by words to the room the prompt leaves.
    const rationale = pair.rationales?.[kind];
    const { title, ask: asked } = fitted[i];
    const completion = (why: string) => cotIds(policy, { query: pair.query, title }, asked, pair.label, why).completion;
    const fits = (p: Parts) => prompts[i].length + completion(p.rationale).length <= C;
    const kept = rationale === undefined ? undefined : shrink({ title, rules: '', rationale }, fits, [['rationale', 1]]);
    const teacher = kept && fits(kept) ? completion(kept.rationale) : undefined;
    const candidates = decoded[i].map((b) => ({ tokens: b.tokens, label: b.label }));
    const pick = pickPreference(policy.scheme, pair.label, candidates, teacher, cfg);
    if (pick.kind === 'skip') skipped[pick.reason]++;
    else out.push({ pair_id: pair.pair_id, prompt: prompts[i], ...pick.value });
  });
  ctx.log?.(mineSummary(pairs.length, out, skipped));
  return out;
}

/**
 * The CoT dataset as text (the run's datasets/cot.jsonl, what `lref export --to trl` reads): each
 * teacher rationale's example as the model was trained on it, before fitting to the context.
 */
export function hfCotDataset(
  rm: HFRelevanceModel,
  templates: Readonly<Record<CotKind, PromptTemplate>>,
  pairs: readonly PairRecord[],
  rationales: Partial<Record<CotKind, readonly CotRationale[]>>,
  rules?: string,
): StageExample[] {
  const byId = new Map(pairs.map((p) => [p.pair_id, p]));
  return (['ee', 'ra', 'dr'] as const).flatMap((kind) =>
    (rationales[kind] ?? []).flatMap((r) => {
      const p = byId.get(r.pair_id);
      if (!p) return [];
      const text = cotText(rm, p, { template: templates[kind], rules, wrong: r.wrong }, p.label, r.rationale);
      return [{ pair_id: p.pair_id, kind, ...text, label: p.label, rationale: r.rationale }];
    }),
  );
}
