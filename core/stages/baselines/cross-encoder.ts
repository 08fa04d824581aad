import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { labelIndex, getScheme, type LabelScheme } from '../../data/labels.ts';
import type { PairRecord } from '../../data/schema.ts';
import type { ModelConfig, TrainConfig } from '../../model/config.ts';
import { EncoderClassifier } from '../../model/encoder.ts';
import { loadCheckpoint, saveCheckpoint } from '../../model/checkpoint.ts';
import { snapshotParams } from '../../model/lm.ts';
import { EarlyStop, trainWithEarlyStopping, type ValidPoint } from '../../train/early-stop.ts';
import { batchIndices, makeOptimizer } from '../../train/loop.ts';
import { lrAt } from '../../train/schedule.ts';
import { optimizeStep } from '../../train/step.ts';
import { encodePrompt, fitToContext, parseTemplate, type PromptTemplate } from '../../text/prompts.ts';
import { Tokenizer } from '../../text/tokenizer.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { UserError } from '../../util/errors.ts';
import { checkDecision, decideGrade, GradeDecision } from '../../eval/decision.ts';
import { hash32 } from '../../util/rng.ts';
import type { LabelPrediction } from '../relevance-model.ts';

/**
 * The paper's "BERT" row: a bidirectional cross-encoder of the decoder's size, trained from
 * scratch with a classifier head on the same pairs and the same tokens. The input is the label
 * template's prompt without its trailing <answer> marker (an encoder has no answer position), cut
 * to the context the same way the decoder's prompts are; the class is read from the mean-pooled
 * trunk (EncoderClassifier). Steps, rate and batch are its own (CrossEncoderConfig), so the
 * baseline gets a fair budget rather than the decoder's.
 */
export const CrossEncoderConfig = z
  .object({
    version: z.literal(1).default(1),
    /** optimizer steps; the decoder's SFT steps are a sensible start, encoders converge about as fast */
    steps: z.number().int().min(1).default(500),
    /** 1e-3: the rate the decoder trunk of this size trains with from scratch */
    lr: z.number().positive().default(1e-3),
    /** sequences per step */
    batchSize: z.number().int().min(1).default(16),
    /** linear warmup steps (clamped to a tenth of the run) */
    warmup: z.number().int().min(0).default(20),
    /** mean pooling: without a [CLS] pre-training objective the first token carries little */
    pooling: z.enum(['mean', 'first']).default('mean'),
    /** keep the best checkpoint on valid, as the label SFT variants do, so the baseline gets the same choice */
    earlyStop: EarlyStop.optional(),
  })
  .strict();
export type CrossEncoderConfig = z.infer<typeof CrossEncoderConfig>;
export type CrossEncoderConfigInput = z.input<typeof CrossEncoderConfig>;

export interface CrossEncoder {
  clf: EncoderClassifier;
  tokenizer: Tokenizer;
  scheme: LabelScheme;
  template: PromptTemplate;
  /** how probabilities become a grade; argmax when absent (eval/decision.ts) */
  decision?: GradeDecision;
}

/** Encoder inputs: the label prompt minus its final <answer>, fitted to the context. */
export function crossEncoderInputs(tok: Tokenizer, template: PromptTemplate, pairs: readonly PairRecord[], contextLength: number): number[][] {
  const answer = tok.specialTokens.includes('<answer>') ? tok.tokenId('<answer>') : -1;
  return pairs.map((p) => {
    const ids = encodePrompt(tok, template, p);
    if (ids[ids.length - 1] === answer) ids.pop();
    return fitToContext(ids, [], contextLength, tok).promptIds;
  });
}

/** Right-padded ids and the attention mask as tensors (the caller disposes them). */
function padded(rows: readonly number[][], padId: number): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const T = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  const mask = new Float32Array(rows.length * T);
  rows.forEach((r, b) => {
    ids.set(r, b * T);
    mask.fill(1, b * T, b * T + r.length);
  });
  return { ids: tf.tensor2d(ids, [rows.length, T], 'int32'), mask: tf.tensor2d(mask, [rows.length, T], 'float32') };
}

export interface TrainCrossEncoderOptions {
  /** the decoder's shape (causal is forced off); its seed seeds the init */
  modelConfig: ModelConfig;
  /** the run's base settings: seed, betas, clip, weight decay; steps/lr/batch come from `cfg` */
  trainConfig: TrainConfig;
  onStep?: (step: number, loss: number) => void;
  signal?: AbortSignal;
  /** held-out pairs and their score for `earlyStop` (without them the full schedule runs) */
  validate?: { pairs: readonly PairRecord[]; score: (gold: string[], pred: LabelPrediction[]) => number; batchSize?: number };
}

/** Trains a fresh cross-encoder on `pairs` (labels of `scheme`); returns it and its loss trace. */
export function trainCrossEncoder(
  tok: Tokenizer,
  scheme: LabelScheme,
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  cfgInput: CrossEncoderConfigInput,
  opts: TrainCrossEncoderOptions,
): { model: CrossEncoder; losses: number[]; curve?: ValidPoint[]; bestStep?: number } {
  const cfg = CrossEncoderConfig.parse(cfgInput);
  if (pairs.length === 0) throw new UserError('cross-encoder baseline: no training pairs');
  const labels = pairs.map((p) => labelIndex(scheme, p.label));
  const { causal: _causal, ...encoder } = opts.modelConfig;
  const clf = new EncoderClassifier({ encoder, numClasses: scheme.labels.length, pooling: cfg.pooling });
  const inputs = crossEncoderInputs(tok, template, pairs, clf.encoder.config.contextLength);
  const train = { ...opts.trainConfig, lr: cfg.lr, steps: cfg.steps, batchSize: cfg.batchSize, warmup: Math.min(cfg.warmup, Math.floor(cfg.steps / 10)) };
  const optimizer = makeOptimizer(clf, train);
  const model: CrossEncoder = { clf, tokenizer: tok, scheme, template };
  const losses: number[] = [];
  const trainSteps = (from: number, to: number) => {
    for (let step = from; step < to; step++) {
      opts.signal?.throwIfAborted();
      const idx = batchIndices(pairs.length, Math.min(cfg.batchSize, pairs.length), train.seed, step);
      const { ids, mask } = padded(idx.map((i) => inputs[i]), tok.padId);
      const y = tf.tensor1d(idx.map((i) => labels[i]), 'int32');
      try {
        const dropoutSeed = hash32((train.seed * 0x27d4eb2d + step) >>> 0);
        const { loss } = optimizeStep(clf, optimizer, () => clf.loss(ids, mask, y, { training: true, dropoutSeed }), {
          lr: lrAt(step, train),
          clipNorm: train.clipNorm,
        });
        losses.push(loss);
        opts.onStep?.(step, loss);
      } finally {
        tf.dispose([ids, mask, y]);
      }
    }
  };
  const v = opts.validate;
  let checks: { curve: ValidPoint[]; bestStep?: number } | undefined;
  try {
    if (cfg.earlyStop && v && v.pairs.length > 0) {
      const gold = v.pairs.map((p) => p.label);
      checks = trainWithEarlyStopping({
        from: 0,
        total: cfg.steps,
        schedule: cfg.earlyStop,
        train: trainSteps,
        score: () => v.score(gold, predictCrossEncoder(model, v.pairs, v.batchSize)),
        snapshot: () => snapshotParams(clf),
        restore: (w) => clf.assignParams(w),
      });
    } else trainSteps(0, cfg.steps);
  } catch (err) {
    clf.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
  return { model, losses, ...checks };
}

/** One label and the class probabilities per pair, in batches (dropout off). */
export function predictCrossEncoder(ce: CrossEncoder, pairs: readonly PairRecord[], batchSize = 64): LabelPrediction[] {
  const inputs = crossEncoderInputs(ce.tokenizer, ce.template, pairs, ce.clf.encoder.config.contextLength);
  const out: LabelPrediction[] = [];
  for (let i = 0; i < inputs.length; i += batchSize) {
    const { ids, mask } = padded(inputs.slice(i, i + batchSize), ce.tokenizer.padId);
    let rows: number[][];
    try {
      rows = ce.clf.predictProba(ids, mask);
    } finally {
      tf.dispose([ids, mask]);
    }
    for (const row of rows) {
      const probs: Record<string, number> = {};
      ce.scheme.labels.forEach((l, c) => (probs[l] = row[c]));
      out.push({ label: ce.scheme.labels[decideGrade(row, ce.decision?.offsets)], probs });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// On disk: the trunk as an ordinary checkpoint (weights, tokenizer, config) plus head.json with the
// classifier's weights and what it classifies into.

const Head = z
  .object({
    version: z.literal(1),
    kind: z.literal('lref-cross-encoder-head'),
    scheme: z.string(),
    pooling: z.enum(['mean', 'first']),
    template: z.unknown(),
    /** [dModel × classes] row-major, then the classes' biases */
    w: z.array(z.number()),
    b: z.array(z.number()),
    decision: GradeDecision.optional(),
  })
  .strict();

export function saveCrossEncoder(dir: string, ce: CrossEncoder, step: number): void {
  saveCheckpoint(dir, { model: ce.clf.encoder, step, tokenizerJson: ce.tokenizer.toJSON() });
  const params = ce.clf.params();
  const { source: _source, ...template } = ce.template;
  const head = {
    version: 1,
    kind: 'lref-cross-encoder-head',
    scheme: ce.scheme.id,
    pooling: ce.clf.pooling,
    template,
    w: Array.from(params.get('cls.w')!.dataSync()),
    b: Array.from(params.get('cls.b')!.dataSync()),
    ...(ce.decision ? { decision: ce.decision } : {}),
  };
  writeFileAtomic(join(dir, 'head.json'), JSON.stringify(head) + '\n');
}

export function loadCrossEncoder(dir: string): CrossEncoder {
  const file = join(dir, 'head.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as Error).message})`);
  }
  const parsed = Head.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}`);
  const head = parsed.data;
  const scheme = getScheme(head.scheme);
  if (head.decision) checkDecision(head.decision, scheme.labels, file);
  const loaded = loadCheckpoint(dir);
  const { causal: _causal, ...encoder } = loaded.model.config;
  const clf = new EncoderClassifier({ encoder, numClasses: scheme.labels.length, pooling: head.pooling });
  const values = snapshotParams(loaded.model);
  loaded.model.dispose();
  try {
    clf.assignParams(values.set('cls.w', Float32Array.from(head.w)).set('cls.b', Float32Array.from(head.b)));
  } catch (e) {
    clf.dispose();
    throw new UserError(`${file}: does not fit the checkpoint beside it (${(e as Error).message})`);
  }
  if (loaded.tokenizerJson === undefined) throw new UserError(`${dir}: checkpoint has no tokenizer.json`);
  const tokenizer = Tokenizer.fromJSON(loaded.tokenizerJson, join(dir, 'tokenizer.json'));
  return { clf, tokenizer, scheme, template: parseTemplate(head.template, file), ...(head.decision ? { decision: head.decision } : {}) };
}
