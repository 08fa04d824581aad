import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import { getScheme, type LabelScheme } from '../data/labels.ts';
import { DecoderLM } from '../model/gpt.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.ts';
import { snapshotParams } from '../model/lm.ts';
import type { AdamW } from '../train/adamw.ts';
import type { LMExample } from '../train/batch.ts';
import { trainWithEarlyStopping, type EarlyStop, type ValidPoint } from '../train/early-stop.ts';
import { trainLM, type TrainHooks } from '../train/loop.ts';
import { scoreLabels } from '../train/score.ts';
import { Tokenizer, type Normalize } from '../text/tokenizer.ts';
import {
  encodeCompletion,
  encodePrompt,
  fitToContext,
  parseTemplate,
  PromptTemplate,
  promptTexts,
  templateTexts,
  type PromptExtras,
} from '../text/prompts.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { checkDecision, decideGrade, GradeDecision } from '../eval/decision.ts';

/**
 * A relevance judge: a decoder LM plus everything needed to ask it about a pair (tokenizer,
 * label scheme, prompt template). Every LREF variant (the auxiliary models, the SFT variants, the
 * CoT and DPO models) is one of these; they differ in what they were trained on.
 */
export interface RelevanceModel {
  model: DecoderLM;
  tokenizer: Tokenizer;
  scheme: LabelScheme;
  template: PromptTemplate;
  /** how probabilities become a grade; argmax when absent (eval/decision.ts) */
  decision?: GradeDecision;
}

/** A label prediction by scoring: the probability of each label token at the answer position. */
export interface LabelPrediction {
  label: string;
  /** label → probability, in scheme order */
  probs: Record<string, number>;
}

/**
 * Trains the run's tokenizer on the text the models will see: the plain-text pieces of rendered
 * prompts (so words carry the leading space they have at encode time), the template texts and any
 * extra text (rationales for CoT). One tokenizer per run: every variant shares it, as fine-tuned
 * variants of one base LLM share its vocabulary. Lower-cased by default: a small model trained
 * from scratch cannot afford to learn that "Red" in a title matches "red" in a query.
 */
export function trainRunTokenizer(
  pairs: readonly PairRecord[],
  templates: readonly PromptTemplate[],
  vocabSize: number,
  extraTexts: Iterable<string> = [],
  normalize: Normalize = 'lower',
): Tokenizer {
  const corpus: string[] = [];
  for (const t of templates) corpus.push(...templateTexts(t));
  for (const p of pairs) for (const t of templates) corpus.push(...promptTexts(t, p));
  for (const x of extraTexts) corpus.push(x);
  return Tokenizer.train(corpus, { vocabSize, normalize });
}

/** Label-only SFT examples: prompt → `<L:label><eos>`, fitted to the context. */
export function labelExamples(
  tok: Tokenizer,
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  labels: readonly string[],
  contextLength: number,
  extras: PromptExtras = {},
): LMExample[] {
  return pairs.map((p, i) => {
    const fitted = fitToContext(encodePrompt(tok, template, p, extras), encodeCompletion(tok, template, labels[i]), contextLength, tok);
    return { prompt: fitted.promptIds, completion: fitted.completionIds };
  });
}

/** Encoded prompts (for scoring), fitted to leave room for the one label token. */
export function encodePrompts(rm: Pick<RelevanceModel, 'tokenizer' | 'template' | 'model'>, pairs: readonly PairRecord[], extras: PromptExtras = {}): number[][] {
  const C = rm.model.config.contextLength;
  const probe = [rm.tokenizer.eosId];
  return pairs.map((p) => fitToContext(encodePrompt(rm.tokenizer, rm.template, p, extras), probe, C, rm.tokenizer).promptIds);
}

export interface TrainLabelOptions {
  modelConfig: ModelConfig;
  trainConfig: TrainConfig;
  /** labels to train on (default each pair's own label); MS trains on teacher-named label' */
  labels?: readonly string[];
  /** start from these weights instead of a fresh init (continued training) */
  init?: DecoderLM;
  hooks?: TrainHooks;
  /**
   * Early stopping on held-out pairs: every `every` steps the model is scored on `pairs`; the best
   * weights (highest `score`) are kept and restored at the end, and training stops after `patience`
   * checks without a gain. Choices made this way belong on the valid split, never the test split.
   */
  validate?: EarlyStop & { pairs: readonly PairRecord[]; score: (gold: string[], pred: LabelPrediction[]) => number; batchSize?: number };
}

/** Fine-tunes a fresh (or given) model on label-only SFT; returns it with its loss trace. */
export function trainLabelModel(
  tok: Tokenizer,
  scheme: LabelScheme,
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  opts: TrainLabelOptions,
): { rm: RelevanceModel; losses: number[]; optimizer: AdamW; curve?: ValidPoint[]; bestStep?: number } {
  if (pairs.length === 0) throw new UserError('no training pairs');
  const model = opts.init ?? new DecoderLM(opts.modelConfig);
  const labels = opts.labels ?? pairs.map((p) => p.label);
  const examples = labelExamples(tok, template, pairs, labels, model.config.contextLength);
  const hooks: TrainHooks = { batch: { padTo: 'longest', ...opts.hooks?.batch }, ...opts.hooks };
  const rm: RelevanceModel = { model, tokenizer: tok, scheme, template };
  const v = opts.validate;
  if (!v || v.pairs.length === 0) {
    const result = trainLM(model, examples, opts.trainConfig, hooks);
    return { rm, losses: result.losses, optimizer: result.optimizer };
  }
  // One optimizer across the segments: trainLM resumes by step (same batches, same schedule as one call).
  const gold = v.pairs.map((p) => p.label);
  const losses: number[] = [];
  let optimizer = hooks.optimizer;
  const { curve, bestStep } = trainWithEarlyStopping({
    from: hooks.startStep ?? 0,
    total: opts.trainConfig.steps,
    schedule: v,
    train: (from, to) => {
      const r = trainLM(model, examples, opts.trainConfig, { ...hooks, optimizer, startStep: from, stopStep: to });
      optimizer = r.optimizer;
      losses.push(...r.losses);
    },
    score: () => v.score(gold, predictLabels(rm, v.pairs, v.batchSize)),
    snapshot: () => snapshotParams(model),
    restore: (w) => model.assignParams(w),
  });
  return { rm, losses, optimizer: optimizer!, curve, bestStep };
}

/** Scores every pair: one forward pass per batch, argmax over the scheme's label tokens. */
export function predictLabels(rm: RelevanceModel, pairs: readonly PairRecord[], batchSize = 64): LabelPrediction[] {
  if (pairs.length === 0) return [];
  const labelIds = rm.tokenizer.labelTokenIds(rm.scheme);
  const probs = scoreLabels(rm.model, encodePrompts(rm, pairs), labelIds, batchSize, { padId: rm.tokenizer.padId });
  return probs.map((row) => {
    const named: Record<string, number> = {};
    rm.scheme.labels.forEach((l, i) => (named[l] = row[i]));
    return { label: rm.scheme.labels[decideGrade(row, rm.decision?.offsets)], probs: named };
  });
}

// ------------------------------------------------------------------------------------------------
// On disk: a checkpoint folder (weights, optimizer, tokenizer, config, step) plus lref-model.json,
// which says how to ask the model (scheme, template) and where it came from.

export const ModelCard = z.object({
  version: z.literal(1),
  scheme: z.string(),
  template: z.unknown(),
  backend: z.string(),
  created: z.string(),
  /** free-form provenance: data file, format, seed, steps, split sizes */
  provenance: z.record(z.string(), z.unknown()).default({}),
  /** the decision rule fitted on valid (absent: argmax) */
  decision: GradeDecision.optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;

export function saveRelevanceModel(
  dir: string,
  rm: RelevanceModel,
  info: { step: number; optimizer?: AdamW; trainConfig?: TrainConfig; backend: string; provenance?: Record<string, unknown> },
): void {
  saveCheckpoint(dir, { model: rm.model, optimizer: info.optimizer, trainConfig: info.trainConfig, step: info.step, tokenizerJson: rm.tokenizer.toJSON() });
  const { source: _source, ...template } = rm.template;
  const card: ModelCard = {
    version: 1,
    scheme: rm.scheme.id,
    template,
    backend: info.backend,
    created: new Date().toISOString(),
    provenance: info.provenance ?? {},
    ...(rm.decision ? { decision: rm.decision } : {}),
  };
  writeFileAtomic(join(dir, 'lref-model.json'), JSON.stringify(card, null, 1) + '\n');
}

export function loadRelevanceModel(dir: string): RelevanceModel & { card: ModelCard; step: number } {
  const cardFile = join(dir, 'lref-model.json');
  if (!existsSync(cardFile)) throw new UserError(`${dir}: not a model folder (no lref-model.json; train one with \`lref train\`)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cardFile, 'utf8'));
  } catch (e) {
    throw new UserError(`${cardFile}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = ModelCard.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${cardFile}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const card = parsed.data;
  const scheme = getScheme(card.scheme);
  if (card.decision) checkDecision(card.decision, scheme.labels, cardFile);
  const loaded = loadCheckpoint(dir);
  if (loaded.tokenizerJson === undefined) throw new UserError(`${dir}: checkpoint has no tokenizer.json`);
  const tokenizer = Tokenizer.fromJSON(loaded.tokenizerJson, join(dir, 'tokenizer.json'));
  return {
    model: loaded.model,
    tokenizer,
    scheme,
    template: parseTemplate(card.template, cardFile),
    ...(card.decision ? { decision: card.decision } : {}),
    card,
    step: loaded.step,
  };
}
