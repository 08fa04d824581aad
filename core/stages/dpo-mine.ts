import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import { isOptimistic, type LabelScheme } from '../data/labels.ts';
import { beamSearchBatch, greedyBatch } from '../train/generate.ts';
import { scoreLabels } from '../train/score.ts';
import { encodeCompletion, encodePrompt, fitToContext, type PromptExtras } from '../text/prompts.ts';
import { labelToken, type Tokenizer } from '../text/tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import type { StageContext } from './context.ts';
import { encodePrompts, type RelevanceModel } from './relevance-model.ts';
import { readCotOutput } from './cot-predict.ts';

/**
 * LREF stage 3, part 1: mining preference pairs from the stage-2 model's own mistakes.
 * "Chosen = the correct label (with its rationale) found in the beam; rejected = the model's wrong
 * top-1 answer" (LREF §Stage 3, see /work/shared/docs/LREF.md). For every training pair we run a
 * beam search on the policy's prompt; when the top-1 answer's label is wrong, the top-1 output is
 * the rejected completion and the best-ranked beam with the gold label is the chosen one.
 */

export const MineConfig = z
  .object({
    version: z.literal(1).default(1),
    /** 4: LREF finds the right label "at beam position 2" for most over-graded cases; 4 beams also
     *  reach the third and fourth choice at twice the cost of 2. */
    beamWidth: z.number().int().min(1).default(4),
    /** 'beam' (LREF): chosen = the best-ranked beam with the gold label. 'teacher': chosen is always
     *  the gold completion (the teacher's rationale for CoT models), the beam is used only for rejected. */
    chosen: z.enum(['beam', 'teacher']).default('beam'),
    /** true: with chosen='beam', a pair whose beams hold no correct label takes the teacher/gold
     *  completion instead of being dropped. LREF does not say; dropping would lose exactly the worst
     *  errors, so we keep them (chosen_rank null marks them). */
    teacherFallback: z.boolean().default(true),
    /** false: mine every wrong top-1, as the paper does (optimistic ones are ~70% of errors and
     *  dominate anyway). true: only over-graded answers, a stricter de-biasing set. */
    onlyOptimistic: z.boolean().default(false),
    /**
     * Answer-first CoT models only: what chosen and rejected hold. 'completion': `<answer><L:x>` and
     * the rationale after it. 'grade': `<answer><L:x>` alone — the decision; the rationale explains
     * it afterwards and is left as it was. Measured on our models, whole completions let DPO lower
     * the rejected side by cutting rationales short, and the policy collapsed to one grade with an
     * empty rationale (see the issue 3 note).
     */
    answerFirstPrefers: z.enum(['completion', 'grade']).default('completion'),
    /** CoT models only: tokens a beam may generate (rationale + answer), capped at half the context. */
    maxNewTokens: z.number().int().min(1).default(96),
    /** label-only models: prompts per scoring forward pass */
    scoreBatchSize: z.number().int().min(1).default(64),
    /** CoT models: prompts decoded together (generate.ts; the mined pairs do not depend on it) */
    decodeBatchSize: z.number().int().min(1).default(32),
  })
  .strict();
export type MineConfig = z.infer<typeof MineConfig>;
export type MineConfigInput = z.input<typeof MineConfig>;

/** One mined preference: token ids (what training needs) plus why it was mined. */
export const PreferencePair = z
  .object({
    pair_id: z.string().min(1),
    prompt: z.array(z.number().int().min(0)).min(1),
    chosen: z.array(z.number().int().min(0)).min(1),
    rejected: z.array(z.number().int().min(0)).min(1),
    /** 1-based beam position of the chosen completion; null when it is the teacher/gold completion */
    chosen_rank: z.number().int().min(1).nullable(),
    /** the wrong top-1 label; null when the top-1 output had no parseable label */
    rejected_label: z.string().nullable(),
    gold: z.string().min(1),
    /** the top-1 over-grades the pair (isOptimistic(gold, rejected_label)) */
    optimistic: z.boolean(),
  })
  .strict();
export type PreferencePair = z.infer<typeof PreferencePair>;

/** One ranked output of the policy for a prompt (a beam, or a label by score). */
export interface Candidate {
  tokens: number[];
  /** the label it answers; null when no label can be read from it */
  label: string | null;
}

export type SkipReason = 'correct' | 'not-optimistic' | 'no-correct-beam' | 'no-teacher' | 'empty-output';
export type MineDecision = { kind: 'pair'; value: Omit<PreferencePair, 'pair_id' | 'prompt'> } | { kind: 'skip'; reason: SkipReason };

/**
 * The mining decision for one pair, from its ranked candidates (best first) and the gold
 * completion (undefined when there is none, e.g. a CoT pair without a teacher rationale). Pure:
 * the tests drive it with crafted outputs.
 */
export function pickPreference(
  scheme: LabelScheme,
  gold: string,
  candidates: readonly Candidate[],
  teacher: number[] | undefined,
  cfg: Pick<MineConfig, 'chosen' | 'teacherFallback' | 'onlyOptimistic'>,
): MineDecision {
  const top = candidates[0];
  if (top === undefined || top.tokens.length === 0) return { kind: 'skip', reason: 'empty-output' };
  if (top.label === gold) return { kind: 'skip', reason: 'correct' };
  const optimistic = top.label !== null && isOptimistic(scheme, gold, top.label);
  if (cfg.onlyOptimistic && !optimistic) return { kind: 'skip', reason: 'not-optimistic' };
  const base = { rejected: top.tokens, rejected_label: top.label, gold, optimistic };
  if (cfg.chosen === 'beam') {
    const at = candidates.findIndex((c) => c.label === gold && c.tokens.length > 0);
    if (at >= 0) return { kind: 'pair', value: { ...base, chosen: candidates[at].tokens, chosen_rank: at + 1 } };
    if (!cfg.teacherFallback) return { kind: 'skip', reason: 'no-correct-beam' };
  }
  if (teacher === undefined) return { kind: 'skip', reason: 'no-teacher' };
  return { kind: 'pair', value: { ...base, chosen: teacher, chosen_rank: null } };
}

/**
 * Label-only models: a beam over one label token is the label tokens ranked by probability, so
 * one scoring pass (softmax over the label tokens at the answer position) replaces generation.
 * Returns the top `width` labels per prompt, best first (ties: scheme order).
 */
export function rankLabelsByScore(policy: RelevanceModel, prompts: number[][], width: number, batchSize = 64): Candidate[][] {
  const { tokenizer: tok, scheme } = policy;
  const ids = tok.labelTokenIds(scheme);
  const probs = scoreLabels(policy.model, prompts, ids, batchSize, { padId: tok.padId });
  return probs.map((row) =>
    row
      .map((p, i) => ({ p, i }))
      .sort((a, b) => b.p - a.p || a.i - b.i)
      .slice(0, width)
      .map(({ i }) => ({ tokens: [ids[i]], label: scheme.labels[i] })),
  );
}

/** Any model: beam search, each beam's label read back as predictions are (readCotOutput: either answer layout). */
export function rankByBeamSearch(policy: RelevanceModel, prompt: number[], width: number, maxNewTokens: number): Candidate[] {
  return rankByBeamSearchBatch(policy, [prompt], width, maxNewTokens)[0];
}

/** rankByBeamSearch for many prompts, decoded together (`rows` beams at a time). */
function rankByBeamSearchBatch(policy: RelevanceModel, prompts: number[][], width: number, maxNewTokens: number, rows = 32): Candidate[][] {
  const { tokenizer: tok, scheme } = policy;
  const found = beamSearchBatch(policy.model, prompts, { beamWidth: width, maxNewTokens, stopTokens: [tok.eosId], rows });
  return found.map((beams) => beams.map((b) => ({ tokens: b.tokens, label: readCotOutput(b.tokens, tok, scheme).label })));
}

/** Answer-first CoT models: the probabilities of the label tokens right after `<answer>`, per prompt. */
function scoreAtAnswer(policy: RelevanceModel, prompts: readonly number[][], batchSize: number): number[][] {
  const { tokenizer: tok, scheme } = policy;
  const answer = tok.tokenId('<answer>');
  return scoreLabels(policy.model, prompts.map((p) => [...p, answer]), tok.labelTokenIds(scheme), batchSize, { padId: tok.padId });
}

/**
 * Answer-first CoT models (`<answer><L:x><rationale> …`): the grades ranked by the policy's
 * probability at the answer position — a beam over the one token where the decision is made,
 * which a sequence beam loses (its 4 beams soon all continue the top grade's rationale). Each
 * candidate is `<answer><L:x>` plus the policy's own greedy rationale for that grade; only the
 * top-1 and the gold grade's candidate are generated (the only ones pickPreference reads), so the
 * chosen completion is on-policy whenever the gold grade ranks within `width`. Many prompts at
 * once: their rationales are decoded together.
 */
export function rankAtAnswer(
  policy: RelevanceModel,
  prompts: readonly (readonly number[])[],
  probs: readonly (readonly number[])[],
  width: number,
  maxNewTokens: number,
  golds: readonly string[],
  rows = 32,
): Candidate[][] {
  const { tokenizer: tok, scheme } = policy;
  const answer = tok.tokenId('<answer>');
  const ranked = prompts.map((_, i) =>
    probs[i]
      .map((p, j) => ({ p, j }))
      .sort((a, b) => b.p - a.p || a.j - b.j)
      .slice(0, width)
      .map(({ j }, rank) => {
        const label = scheme.labels[j];
        return { label, head: [answer, tok.tokenId(labelToken(label))], decode: rank === 0 || label === golds[i] };
      }),
  );
  // Every rationale to write, decoded together. The room left after the head is maxNewTokens − 2,
  // capped by the context exactly as a one-by-one decode's per-prompt limit was.
  const asks: { i: number; r: number }[] = [];
  ranked.forEach((cands, i) => cands.forEach((c, r) => c.decode && asks.push({ i, r })));
  const room = Math.max(0, maxNewTokens - 2);
  const rest = room > 0
    ? greedyBatch(policy.model, asks.map(({ i, r }) => [...prompts[i], ...ranked[i][r].head]), { maxNewTokens: room, stopTokens: [tok.eosId], rows }).map((b) => b.tokens)
    : asks.map(() => []);
  const written = new Map(asks.map(({ i, r }, k) => [`${i}:${r}`, rest[k]]));
  return ranked.map((cands, i) => cands.map((c, r) => ({ tokens: [...c.head, ...(written.get(`${i}:${r}`) ?? [])], label: c.label })));
}

/** The completion that is right by construction: the gold label (with the teacher's rationale for CoT). */
function teacherCompletion(policy: RelevanceModel, pair: PairRecord, room: number): number[] | undefined {
  const { tokenizer: tok, template } = policy;
  // Label-only: just the label token, the same shape as a scored candidate.
  if (template.kind === 'label') return [tok.tokenId(labelToken(pair.label))];
  const rationale = pair.rationales?.[template.kind];
  if (rationale === undefined) return undefined;
  // An empty prompt leaves only the rationale to shorten, so the shared prompt is never touched.
  return fitToContext([], encodeCompletion(tok, template, pair.label, rationale), room, tok).completionIds;
}

/** Prompts fitted to leave room for the answer: one label token, or maxNewTokens (≤ half the context) for CoT. */
function minePrompts(policy: RelevanceModel, pairs: readonly PairRecord[], cfg: MineConfig, extras: PromptExtras): number[][] {
  if (policy.template.kind === 'label') return encodePrompts(policy, pairs, extras);
  const C = policy.model.config.contextLength;
  const reserve = new Array<number>(Math.min(cfg.maxNewTokens, Math.floor(C / 2))).fill(policy.tokenizer.eosId);
  return pairs.map((p) => fitToContext(encodePrompt(policy.tokenizer, policy.template, p, extras), reserve, C, policy.tokenizer).promptIds);
}

/**
 * Mines preference pairs from `pairs` (the training split, gold labels in `label`). Label-only
 * policies are ranked by scoring; CoT policies (templates ee, ra) by beam search. `extras` are the
 * prompt's fixed extras (e.g. the rules text for an RA template).
 */
export function minePreferences(
  ctx: StageContext,
  policy: RelevanceModel,
  pairs: readonly PairRecord[],
  cfgInput: MineConfigInput = {},
  extras: PromptExtras = {},
): PreferencePair[] {
  const cfg = MineConfig.parse(cfgInput);
  if (policy.template.kind === 'dr') {
    throw new UserError(
      `template ${policy.template.id} is kind dr: its prompt carries a sampled wrong decision, so it cannot be the ` +
        'prompt DPO mines on; mine with the answering template (label, ee or ra)',
    );
  }
  const C = policy.model.config.contextLength;
  const prompts = minePrompts(policy, pairs, cfg, extras);
  const labelOnly = policy.template.kind === 'label';
  const ranked = labelOnly ? rankLabelsByScore(policy, prompts, cfg.beamWidth, cfg.scoreBatchSize) : undefined;
  // Answer-first CoT: the grade is the second token, so the beam that matters is over that one
  // position; see rankAtAnswer.
  const answerFirst = !labelOnly && policy.template.answerFirst === true;
  const atAnswer = answerFirst ? scoreAtAnswer(policy, prompts, cfg.scoreBatchSize) : undefined;
  // <answer><L:x> is the first two tokens of an answer-first completion (rankAtAnswer, teacherCompletion).
  const gradeOnly = answerFirst && cfg.answerFirstPrefers === 'grade';

  const out: PreferencePair[] = [];
  const skipped: Record<SkipReason, number> = { correct: 0, 'not-optimistic': 0, 'no-correct-beam': 0, 'no-teacher': 0, 'empty-output': 0 };
  // CoT policies decode a batch of pairs at a time (the same outputs as one by one; generate.ts).
  const step = labelOnly ? pairs.length : cfg.decodeBatchSize;
  for (let at = 0; at < pairs.length; at += step) {
    const idx = pairs.slice(at, at + step).map((_, k) => at + k);
    const ps = idx.map((i) => prompts[i]);
    // room() caps each prompt's decode at the context, as min(cfg.maxNewTokens, C − prompt) did per pair.
    const candidates = ranked
      ? idx.map((i) => ranked[i])
      : atAnswer
        ? rankAtAnswer(policy, ps, idx.map((i) => atAnswer[i]), cfg.beamWidth, cfg.maxNewTokens, idx.map((i) => pairs[i].label), cfg.decodeBatchSize)
        : rankByBeamSearchBatch(policy, ps, cfg.beamWidth, cfg.maxNewTokens, cfg.decodeBatchSize * cfg.beamWidth);
    idx.forEach((i, k) => {
      const pair = pairs[i];
      const room = C - prompts[i].length;
      const pick = pickPreference(policy.scheme, pair.label, candidates[k], teacherCompletion(policy, pair, room), cfg);
      if (pick.kind === 'skip') skipped[pick.reason]++;
      else {
        const v = pick.value;
        out.push({ pair_id: pair.pair_id, prompt: prompts[i], ...v, ...(gradeOnly ? { chosen: v.chosen.slice(0, 2), rejected: v.rejected.slice(0, 2) } : {}) });
      }
    });
    if (!labelOnly) ctx.progress?.('dpo/mine', idx[idx.length - 1] + 1, pairs.length, { mined: String(out.length) });
  }
  ctx.log?.(mineSummary(pairs.length, out, skipped));
  return out;
}

/** One line: how many top-1s were wrong, how many over-graded, where the chosen came from. */
export function mineSummary(n: number, prefs: readonly PreferencePair[], skipped: Record<SkipReason, number>): string {
  const wrong = n - skipped.correct;
  const optimistic = prefs.filter((p) => p.optimistic).length;
  const ranks = new Map<string, number>();
  for (const p of prefs) {
    const key = p.chosen_rank === null ? 'teacher' : `beam ${p.chosen_rank}`;
    ranks.set(key, (ranks.get(key) ?? 0) + 1);
  }
  const pct = (a: number, b: number) => (b > 0 ? ((100 * a) / b).toFixed(1) : '0.0');
  const sources = [...ranks].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
  const drops = Object.entries(skipped).filter(([k, v]) => k !== 'correct' && v > 0).map(([k, v]) => `${k}: ${v}`);
  return (
    `dpo/mine: ${n} pairs, top-1 wrong ${wrong} (${pct(wrong, n)}%); mined ${prefs.length}, ` +
    `${optimistic} optimistic (${pct(optimistic, prefs.length)}%); chosen from ${sources || 'nothing'}` +
    (drops.length > 0 ? `; dropped ${drops.join(', ')}` : '')
  );
}

// ------------------------------------------------------------------------------------------------
// TRL's preference format: {"prompt", "chosen", "rejected"} as text, chosen/rejected being
// completions only (the "explicit prompt" layout), so DPOTrainer reads our files unchanged.

export interface TrlPreference {
  prompt: string;
  chosen: string;
  rejected: string;
}

/**
 * Decoded from the mined ids, so `prompt` is exactly what the policy saw: with a highlighting
 * template it carries the <hl> marks before shared terms (which renderPrompt leaves out), and with
 * a lower-casing run tokenizer its text is lower-cased. Kept on purpose: DPO should train on the
 * prompts the answers were mined on. A trainer with another tokenizer must add "<hl>" (like
 * "<query>") as a special token, or strip the marks and accept prompts the policy never saw.
 */
export function toTrlPreference(p: PreferencePair, tok: Tokenizer): TrlPreference {
  return { prompt: tok.decode(p.prompt), chosen: tok.decode(p.chosen), rejected: tok.decode(p.rejected) };
}

/** JSONL text, one TRL record per line. */
export function trlJsonl(prefs: readonly PreferencePair[], tok: Tokenizer): string {
  return prefs.map((p) => JSON.stringify(toTrlPreference(p, tok)) + '\n').join('');
}

export function writeTrlJsonl(file: string, prefs: readonly PreferencePair[], tok: Tokenizer): void {
  writeFileAtomic(file, trlJsonl(prefs, tok));
}
