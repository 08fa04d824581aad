import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint.ts';
import { ModelConfig, TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { presetFor } from '../model/presets.ts';
import type { LMExample } from '../train/batch.ts';
import { makeOptimizer, trainLM } from '../train/loop.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { encodePrompt, loadTemplate } from '../text/prompts.ts';
import { Tokenizer } from '../text/tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { trainRunTokenizer } from './relevance-model.ts';

/**
 * `lref pretrain`: the decoder trained as a plain causal LM on unlabelled query and product text —
 * our stand-in for LREF's pretrained LLM until pretrained checkpoints can be imported. The text is
 * each pair rendered through the label prompt *without* its grade (`<bos><query> …<product> …<answer>`,
 * with the <hl> marks), so the model learns the words, the prompt layout and what a match looks like
 * before it sees a single label. No label of any split is read. The folder holds the run's
 * tokenizer with the weights: a pipeline with `pretrained: DIR` uses both, and every decoder
 * variant (aux models, label SFT, and so CoT and DPO) starts from these weights.
 */

export const PretrainConfig = z
  .object({
    version: z.literal(1).default(1),
    /** core/model/presets.ts size */
    preset: z.enum(['smoke', 'tiny', 'small']).default('tiny'),
    contextLength: z.number().int().min(16).optional(),
    vocabSize: z.number().int().min(300).default(512),
    steps: z.number().int().min(1).default(2000),
    lr: z.number().positive().default(1e-3),
    batchSize: z.number().int().min(1).default(16),
    warmup: z.number().int().min(0).default(50),
    /** at most this many texts (a seeded sample) */
    maxTexts: z.number().int().min(1).default(50_000),
    seed: z.number().int().min(0).default(1),
  })
  .strict();
export type PretrainConfig = z.infer<typeof PretrainConfig>;

/** The generator's text is drawn with this offset on the seed, so it is never a run's own pairs. */
export const GENERATOR_SEED_OFFSET = 100_000;

/**
 * A pipeline config's `pretrain`: the run pretrains its own base before any stage (vocabulary =
 * tokenizer.vocabSize, size = model.preset and model.contextLength). On generated data the text is
 * `pairs` fresh generator pairs (seed + GENERATOR_SEED_OFFSET); on a data file, the file's text.
 * The seed is the pretraining's own, not the run's, so the seeds of a study share one base, as
 * fine-tunes of one pretrained LLM do.
 */
export const PipelinePretrain = PretrainConfig.omit({ preset: true, contextLength: true, vocabSize: true })
  .extend({ pairs: z.number().int().min(1).default(20_000) })
  .strict();
export type PipelinePretrain = z.infer<typeof PipelinePretrain>;

/** Generated pretraining text: never the pairs of a run with a seed below GENERATOR_SEED_OFFSET. */
export function generatorText(pairs: number, seed: number): { pairs: PairRecord[]; source: string } {
  const s = seed + GENERATOR_SEED_OFFSET;
  return { pairs: generateDataset({ pairs, seed: s, noise: 0 }).pairs, source: `generator (${pairs} pairs, seed ${s})` };
}

/**
 * `dir` holding a base pretrained with `cfg` on `source`: reused when its card says exactly that (a
 * study's seeds share one), trained otherwise. A folder pretrained differently is refused, not overwritten.
 */
export function ensurePretrained(dir: string, text: () => { pairs: readonly PairRecord[]; source: string }, cfgInput: z.input<typeof PretrainConfig>, opts: Omit<PretrainOptions, 'outDir' | 'source'>): PretrainCard {
  const cfg = PretrainConfig.parse(cfgInput);
  const cardFile = join(dir, PRETRAIN_CARD);
  const { pairs, source } = text();
  if (existsSync(cardFile)) {
    const card = PretrainCard.parse(JSON.parse(readFileSync(cardFile, 'utf8')));
    if (JSON.stringify(card.config) !== JSON.stringify(cfg) || card.source !== source) {
      throw new UserError(`${dir}: holds a base pretrained with another config or text (${PRETRAIN_CARD}); remove it or choose another --out`);
    }
    opts.log?.(`pretrain: reusing ${dir}`);
    return card;
  }
  return runPretrain(pairs, cfg, { ...opts, outDir: dir, source }).card;
}

/** What a pretrained folder says about itself (lref-pretrain.json). */
export const PretrainCard = z
  .object({
    version: z.literal(1),
    source: z.string(),
    texts: z.number().int(),
    config: PretrainConfig,
    backend: z.string(),
    created: z.string(),
    /** mean loss of the first and last 10 steps */
    loss: z.object({ first10: z.number(), last10: z.number() }).strict(),
  })
  .strict();
export type PretrainCard = z.infer<typeof PretrainCard>;

export const PRETRAIN_CARD = 'lref-pretrain.json';

/** Unlabelled LM examples: each pair's label prompt (no grade), loss on every token after <bos>. */
export function pretrainExamples(tok: Tokenizer, pairs: readonly PairRecord[], contextLength: number): LMExample[] {
  const template = loadTemplate('label');
  return pairs.map((p) => {
    const ids = encodePrompt(tok, template, p).slice(0, contextLength);
    return { prompt: ids.slice(0, 1), completion: ids.slice(1) };
  });
}

export interface PretrainOptions {
  outDir: string;
  backend: string;
  source: string;
  progress?: (done: number, total: number, loss: number) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** Trains tokenizer + decoder on the pairs' text (labels unread) and writes the folder. */
export function runPretrain(pairs: readonly PairRecord[], cfgInput: z.input<typeof PretrainConfig>, opts: PretrainOptions): { losses: number[]; card: PretrainCard } {
  const cfg = PretrainConfig.parse(cfgInput);
  if (pairs.length === 0) throw new UserError('pretrain: no text to train on');
  // The same text twice teaches nothing new: one example per distinct (query, product).
  const seen = new Set<string>();
  const unique = pairs.filter((p) => {
    const k = `${p.query}\u0000${p.product_id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const texts = new Rng(cfg.seed).fork('pretrain').shuffle(unique).slice(0, cfg.maxTexts);
  // Labels stripped, so nothing downstream can read them even by mistake.
  const unlabelled = texts.map((p) => ({ ...p, label: '?', score: undefined, rationales: undefined }));
  const templates = (['label', 'ee', 'ra', 'dr'] as const).map((t) => loadTemplate(t));
  const tok = trainRunTokenizer(unlabelled.slice(0, 20_000), templates, cfg.vocabSize);
  const preset = presetFor(cfg.preset, tok.vocabSize);
  const modelConfig = ModelConfig.parse({ ...preset.model, ...(cfg.contextLength ? { contextLength: cfg.contextLength } : {}), seed: cfg.seed });
  const trainConfig = TrainConfig.parse({ ...preset.train, steps: cfg.steps, lr: cfg.lr, batchSize: cfg.batchSize, warmup: Math.min(cfg.warmup, Math.floor(cfg.steps / 10)), seed: cfg.seed });
  const examples = pretrainExamples(tok, unlabelled, modelConfig.contextLength);
  opts.log?.(`pretrain: ${examples.length} texts from ${opts.source}, vocabulary ${tok.vocabSize}, ${modelConfig.nLayers} layers × ${modelConfig.dModel}, context ${modelConfig.contextLength}`);
  const model = new DecoderLM(modelConfig);
  const optimizer = makeOptimizer(model, trainConfig);
  try {
    const { losses } = trainLM(model, examples, trainConfig, {
      optimizer,
      batch: { padTo: 'longest' },
      onStep: (step, loss) => {
        opts.progress?.(step + 1, cfg.steps, loss);
        opts.signal?.throwIfAborted();
      },
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const card: PretrainCard = {
      version: 1,
      source: opts.source,
      texts: examples.length,
      config: cfg,
      backend: opts.backend,
      created: new Date().toISOString(),
      loss: { first10: mean(losses.slice(0, 10)), last10: mean(losses.slice(-10)) },
    };
    saveCheckpoint(opts.outDir, { model, step: losses.length, trainConfig, tokenizerJson: tok.toJSON() });
    writeFileAtomic(join(opts.outDir, PRETRAIN_CARD), JSON.stringify(card, null, 1) + '\n');
    opts.log?.(`pretrain: loss ${card.loss.first10.toFixed(3)} → ${card.loss.last10.toFixed(3)} over ${losses.length} steps; saved ${opts.outDir}`);
    return { losses, card };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** A pretrained folder read back: tokenizer, weights (the caller disposes them) and card. */
export function loadPretrained(dir: string): { model: DecoderLM; tokenizer: Tokenizer; card: PretrainCard } {
  const cardFile = join(dir, PRETRAIN_CARD);
  if (!existsSync(cardFile)) throw new UserError(`${dir}: not a pretrained folder (no ${PRETRAIN_CARD}; make one with \`lref pretrain\`)`);
  const parsed = PretrainCard.safeParse(JSON.parse(readFileSync(cardFile, 'utf8')));
  if (!parsed.success) throw new UserError(`${cardFile}: ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
  const loaded = loadCheckpoint(dir);
  if (loaded.tokenizerJson === undefined) throw new UserError(`${dir}: checkpoint has no tokenizer.json`);
  return { model: loaded.model, tokenizer: Tokenizer.fromJSON(loaded.tokenizerJson, join(dir, 'tokenizer.json')), card: parsed.data };
}
