import type { PairRecord } from '../data/schema.ts';
import type { LMExample } from '../train/batch.ts';
import { encodeCompletion, encodePrompt, fitToContext, textSpan, type PromptTemplate } from '../text/prompts.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { sampleWrongLabel, type CotKind, type Teacher } from '../teachers/teacher.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { StageContext } from './context.ts';

/** One pair's teacher rationale; DR also carries the wrong decision it reflects on. */
export interface CotRationale {
  pair_id: string;
  kind: CotKind;
  rationale: string;
  /** DR only: the sampled wrong decision shown in the prompt */
  wrong?: string;
}

export interface CollectOptions {
  /** teacher requests in flight at once (an LLM teacher also limits itself); default 4 */
  concurrency?: number;
  /** the grading rules text sent with RA requests (an LLM teacher needs it; the rule teacher ignores it) */
  rules?: string;
}

/**
 * Asks `teacher` for one rationale per pair. DR's wrong decisions are drawn from `rng` in pair order
 * before any request is sent, so the result does not depend on which request finishes first.
 * Requests run `concurrency` at a time; the first failure stops the rest and is reported with the
 * pair it came from.
 */
export async function collectRationales(
  ctx: Pick<StageContext, 'scheme' | 'signal' | 'progress'>,
  pairs: readonly PairRecord[],
  kind: CotKind,
  teacher: Teacher,
  rng: Rng,
  opts: CollectOptions = {},
): Promise<CotRationale[]> {
  const wrongs = pairs.map((p) => (kind === 'dr' ? sampleWrongLabel(ctx.scheme, p.label, rng) : undefined));
  const out = new Array<CotRationale>(pairs.length);
  const limit = Math.max(1, Math.min(opts.concurrency ?? 4, pairs.length));
  let next = 0;
  let done = 0;
  let failed = false;
  const stage = `cot/${kind}/teacher`;
  const worker = async () => {
    while (!failed && next < pairs.length) {
      if (ctx.signal?.aborted) throw new UserError(`${stage}: interrupted after ${done} of ${pairs.length} rationales`);
      const i = next++;
      const pair = pairs[i];
      let text: string;
      try {
        text = await teacher.rationale({ kind, pair, scheme: ctx.scheme, gold: pair.label, wrong: wrongs[i], rules: opts.rules });
      } catch (err) {
        failed = true;
        throw namingPair(err, pair.pair_id, teacher.id, kind);
      }
      if (typeof text !== 'string' || text.trim() === '') {
        failed = true;
        throw new UserError(`pair ${pair.pair_id}: teacher ${teacher.id} returned an empty ${kind.toUpperCase()} rationale`);
      }
      out[i] = { pair_id: pair.pair_id, kind, rationale: text.trim(), ...(wrongs[i] !== undefined ? { wrong: wrongs[i] } : {}) };
      ctx.progress?.(stage, ++done, pairs.length);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** The error, with the pair id in front unless the teacher already named it. */
function namingPair(err: unknown, pairId: string, teacherId: string, kind: CotKind): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes(pairId)) return err instanceof Error ? err : new Error(message);
  const text = `pair ${pairId}: teacher ${teacherId} failed on its ${kind.toUpperCase()} rationale: ${message}`;
  return err instanceof UserError ? new UserError(text) : new Error(text, { cause: err });
}

export interface CotExampleStats {
  /** examples whose prompt text (product, rules, query) was shortened to fit */
  promptCut: number;
  /** examples whose rationale lost its last tokens so the product kept MIN_PRODUCT_TOKENS */
  rationaleCut: number;
}

/**
 * Product tokens a CoT prompt keeps before the rationale is shortened instead: about a product
 * title at vocab 512. A whole rationale about a product the model cannot see teaches nothing.
 * The <hl> marks of a highlighting template count (they take context and tell the model which
 * product terms match); when the last kept token would be a mark, one more is kept (see textSpan).
 */
export const MIN_PRODUCT_TOKENS = 24;

export interface CotExampleOptions {
  /** RA prompts: the rules text (default the template's) */
  rules?: string;
  /** product tokens kept before the rationale is cut (default MIN_PRODUCT_TOKENS) */
  minProductTokens?: number;
  /** counts what fitting did (added to) */
  stats?: CotExampleStats;
}

/**
 * CoT training examples: the kind's prompt (DR shows the wrong decision) → `<rationale> text
 * <answer><L:gold><eos>`, fitted to the model's context. The completion is what the student learns
 * to write, so it is kept whole while the prompt can give way: rules and product text are shortened
 * first (longest first, as fitToContext does), down to `minProductTokens` of product text; only
 * then does the rationale lose its last tokens, no more than needed (counted in `stats`). The
 * `<answer><L:gold><eos>` tail is never cut.
 */
export function cotExamples(
  ctx: StageContext,
  kind: CotKind,
  pairs: readonly PairRecord[],
  rationales: readonly CotRationale[],
  template: PromptTemplate,
  opts: CotExampleOptions = {},
): LMExample[] {
  if (template.kind !== kind) throw new UserError(`template ${template.id} is kind ${template.kind}, not ${kind}`);
  if (rationales.length !== pairs.length) throw new UserError(`${pairs.length} pairs but ${rationales.length} ${kind} rationales`);
  const tok = ctx.tokenizer;
  const C = ctx.modelConfig.contextLength;
  const stats = opts.stats ?? { promptCut: 0, rationaleCut: 0 };
  const minProduct = opts.minProductTokens ?? MIN_PRODUCT_TOKENS;
  return pairs.map((pair, i) => {
    const r = rationales[i];
    if (r.pair_id !== pair.pair_id) throw new UserError(`rationale ${i} is for pair ${r.pair_id}, not ${pair.pair_id}`);
    if (kind === 'dr' && r.wrong === undefined) throw new UserError(`pair ${pair.pair_id}: a DR example needs the wrong decision`);
    const prompt = encodePrompt(tok, template, pair, { scheme: ctx.scheme, rules: opts.rules, wrong_label: r.wrong });
    const completion = encodeCompletion(tok, template, pair.label, r.rationale);
    const fitted = fitCot(prompt, completion, C, tok, minProduct);
    if (fitted.promptIds.length < prompt.length) stats.promptCut++;
    if (fitted.completionIds.length < completion.length) stats.rationaleCut++;
    return { prompt: fitted.promptIds, completion: fitted.completionIds };
  });
}

/**
 * See cotExamples. What gives way, in order: rules and product text longest first (fitToContext)
 * down to `minProduct` product tokens; then the rest of the rules text (a constant the model sees in
 * every RA example); then the rationale's last tokens, as few as possible. Never the answer tail.
 */
export function fitCot(prompt: readonly number[], completion: readonly number[], C: number, tok: Tokenizer, minProduct: number): { promptIds: number[]; completionIds: number[] } {
  const floor = Math.min(minProduct, textSpan(prompt, '<product>', tok).len);
  const rules = textSpan(prompt, '<rules>', tok);
  const rationale = textSpan(completion, '<rationale>', tok);
  // A stand-in completion without the <rationale> marker: fitToContext then only cuts the prompt.
  const promptFor = (p: readonly number[], completionLen: number): number[] | undefined => {
    try {
      return fitToContext(p, new Array<number>(completionLen).fill(tok.eosId), C, tok).promptIds;
    } catch {
      return undefined; // even an emptied prompt leaves too little room
    }
  };
  const keepsProduct = (ids: number[] | undefined): ids is number[] => ids !== undefined && textSpan(ids, '<product>', tok).len >= floor;
  const whole = promptFor(prompt, completion.length);
  if (keepsProduct(whole)) return { promptIds: whole, completionIds: [...completion] };
  const withRules = (keep: number) => [...prompt.slice(0, rules.start + keep), ...prompt.slice(rules.start + rules.len)];
  for (let keep = rules.len - 1; keep >= 0; keep--) {
    const ids = promptFor(withRules(keep), completion.length);
    if (keepsProduct(ids)) return { promptIds: ids, completionIds: [...completion] };
  }
  const noRules = withRules(0);
  for (let drop = 1; drop <= rationale.len; drop++) {
    const ids = promptFor(noRules, completion.length - drop);
    if (keepsProduct(ids) || (drop === rationale.len && ids !== undefined)) {
      const end = rationale.start + rationale.len;
      return { promptIds: ids, completionIds: [...completion.slice(0, end - drop), ...completion.slice(end)] };
    }
  }
  return fitToContext(prompt, completion, C, tok); // throws its own "cannot fit" message
}
