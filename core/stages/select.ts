import type { PairRecord } from '../data/schema.ts';
import { labelIndex } from '../data/labels.ts';
import { sample, sampleBalanced } from '../data/split.ts';
import { computeMetrics, type MetricsRecord } from '../eval/metrics.ts';
import { DecoderLM } from '../model/gpt.ts';
import { makeOptimizer } from '../train/loop.ts';
import { loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import type { Teacher } from '../teachers/teacher.ts';
import { ruleConfusableTeacher } from '../teachers/confusable.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { trainConfigFor, type JudgeContext, type LabelJudges, type StageContext } from './context.ts';
import { decideGrade } from '../eval/decision.ts';
import { predictLabels, trainLabelModel, type LabelPrediction } from './relevance-model.ts';
import {
  allSelection,
  countSelection,
  decideSelection,
  describeSelection,
  parseSelectionConfig,
  randomSelection,
  resolveAmount,
  type AuxVerdict,
  type SelectionConfigInput,
  type SelectionCounts,
  type SelectionRecord,
} from './select-rule.ts';

/**
 * LREF stage 1, data selection (LREF.md §Stage 1). Three auxiliary models are fine-tuned on
 * samples of the train set — IM on a random sample, CI on a sample balanced over head/torso/tail
 * queries (bands by query frequency, query-freq.ts), MS on the teacher's confusable label′ instead
 * of the annotation — and select-rule.ts keeps the hard, learnable, plausibly-labelled ones. Every
 * pair is judged by models that never saw it: K-fold cross-fitting (SelectionConfig.auxFolds), one
 * IM/CI/MS triple per fold, trained on samples of the other folds. The aux
 * models are scaffolding: they are disposed here and only their predictions survive, in the records
 * (selection.jsonl). The SFT on the selected pairs is the pipeline's next step, not this one's.
 */

/** What the pipeline hands in besides the context and the config. */
export interface SelectionInputs {
  /** the label-only prompt template (default: the built-in "label") */
  template?: PromptTemplate;
  /** names label′ for MS; default (and when it has no confusableLabel): the rule teacher */
  teacher?: Pick<Teacher, 'id' | 'confusableLabel'>;
  /** pairs none of the aux models trained on, to report their metrics (e.g. the valid split) */
  heldOut?: readonly PairRecord[];
}

export type AuxName = 'IM' | 'CI' | 'MS';

export interface AuxSummary {
  name: AuxName;
  /** pairs each fold's model was fine-tuned on (the largest, when folds differ by a pair) */
  trainPairs: number;
  /** one model per cross-fitting fold */
  folds: { fold: number; trainPairs: number; scoredPairs: number; finalLoss: number }[];
  steps: number;
  /** mean over the folds of each model's mean loss over its last (up to) 10 steps */
  finalLoss: number;
  /** on `heldOut`, the fold models' probabilities averaged: IM and CI against the gold labels, MS against the teacher's label′ (what it learned) */
  heldOut?: MetricsRecord;
}

/** One aux model of the cross-fitting: which pairs it trained on and which it judged (disjoint). */
export interface AuxFit {
  name: AuxName;
  fold: number;
  trained: string[];
  scored: string[];
}

export interface SelectionResult {
  selector: 'lref' | 'all' | 'random';
  /** the pairs SFT trains on, in train order */
  selected: PairRecord[];
  /** one per train pair, in train order */
  records: SelectionRecord[];
  counts: SelectionCounts;
  /** the aux models trained (none for "all", or "random" with a budget) */
  aux: AuxSummary[];
  /** id of the teacher that named label′ for MS */
  msTeacher?: string;
  /** per aux model: the pair ids it trained on and judged (in memory only; the fold is in each record) */
  fits?: AuxFit[];
}

/** Runs stage 1's selection on `train` (every label must belong to ctx.scheme). */
export async function runSelection(ctx: StageContext | JudgeContext, train: PairRecord[], cfgInput: SelectionConfigInput, inputs: SelectionInputs = {}): Promise<SelectionResult> {
  const cfg = parseSelectionConfig(cfgInput);
  if (train.length === 0) throw new UserError('selection: no training pairs');
  for (const p of train) labelIndex(ctx.scheme, p.label); // a foreign label fails here, naming the scheme

  // Selectors that need no aux models.
  if (cfg.selector === 'all' || (cfg.selector === 'random' && cfg.budget !== undefined)) {
    let records = allSelection(train);
    if (cfg.selector === 'random') {
      records = randomSelection(records, resolveAmount(cfg.budget!, train.length), ctx.seed);
    }
    return finish(ctx, cfg.selector, train, records, [], undefined);
  }

  const template = inputs.template ?? loadTemplate('label');
  if (template.kind !== 'label') throw new UserError(`selection: the aux models do label-only SFT; template "${template.id}" is kind ${template.kind}`);
  const teacher = inputs.teacher?.confusableLabel ? inputs.teacher : ruleConfusableTeacher;
  if (inputs.teacher && !inputs.teacher.confusableLabel) ctx.log?.(`select: teacher ${inputs.teacher.id} cannot name confusable labels; MS uses the rule teacher`);
  const heldOut = inputs.heldOut ?? [];

  // Cross-fitting: deal the train pairs into K folds; fold k is judged by models trained on samples
  // of the other folds. One seeded stream per model and fold, so one sample's size leaves the others alone.
  const rng = new Rng(ctx.seed).fork('select');
  const K = Math.min(cfg.auxFolds, train.length);
  if (K < 2) throw new UserError(`selection: cross-fitting needs at least 2 train pairs, got ${train.length}`);
  const folds = new Array<number>(train.length);
  rng.fork('folds').shuffle(train.map((_, i) => i)).forEach((idx, pos) => (folds[idx] = pos % K));
  const want = Math.max(1, Math.round(cfg.auxSampleFraction * train.length));
  if (train.every((p) => p.query_freq === undefined)) ctx.log?.('select: no query_freq in the data; CI trains on a plain random sample');
  const steps = cfg.auxSteps ?? ctx.trainConfig.steps;

  const names: AuxName[] = ['IM', 'CI', 'MS'];
  const preds: Record<AuxName, (LabelPrediction | undefined)[]> = { IM: [], CI: [], MS: [] };
  const heldSum: Record<AuxName, number[][]> = { IM: [], CI: [], MS: [] };
  const foldInfo: Record<AuxName, AuxSummary['folds']> = { IM: [], CI: [], MS: [] };
  const fits: AuxFit[] = [];
  const msTargets = new Map<string, string>();
  const heldOutTargets = heldOut.length > 0 ? await confusableLabels(teacher, ctx, heldOut) : new Map<string, string>();
  if (want > train.length - Math.ceil(train.length / K)) {
    ctx.log?.(`select: auxSampleFraction ${cfg.auxSampleFraction} asks for ${want} pairs but each fold model may only see the other ${K - 1} of ${K} folds; it trains on all of them`);
  }
  for (let k = 0; k < K; k++) {
    const inFold = train.filter((_, i) => folds[i] === k);
    const pool = train.filter((_, i) => folds[i] !== k);
    const n = Math.min(want, pool.length);
    const frng = rng.fork(`fold${k}`);
    const samples: Record<AuxName, PairRecord[]> = {
      IM: sample(pool, n, frng.fork('IM')),
      CI: sampleBalanced(pool, 'query_freq', n, frng.fork('CI')),
      MS: sample(pool, n, frng.fork('MS')),
    };
    for (const [t, v] of await confusableLabels(teacher, ctx, samples.MS.filter((p) => !msTargets.has(p.pair_id)))) msTargets.set(t, v);
    for (const [salt, name] of names.entries()) {
      const pairs = samples[name];
      const labels = name === 'MS' ? pairs.map((p) => msTargets.get(p.pair_id)!) : undefined;
      const r = trainAndPredict(ctx, 1 + salt + 3 * k, template, pairs, labels, steps, inFold, heldOut, `${name}${k + 1}`);
      let j = 0;
      train.forEach((_, i) => {
        if (folds[i] === k) preds[name][i] = r.scored[j++];
      });
      r.heldOut.forEach((p, h) => {
        const row = (heldSum[name][h] ??= new Array<number>(ctx.scheme.labels.length).fill(0));
        ctx.scheme.labels.forEach((l, c) => (row[c] += p.probs[l] / K));
      });
      foldInfo[name].push({ fold: k, trainPairs: pairs.length, scoredPairs: inFold.length, finalLoss: r.finalLoss });
      fits.push({ name, fold: k, trained: pairs.map((p) => p.pair_id), scored: inFold.map((p) => p.pair_id) });
    }
  }

  const aux: AuxSummary[] = names.map((name) => ({
    name,
    trainPairs: Math.max(...foldInfo[name].map((f) => f.trainPairs)),
    folds: foldInfo[name],
    steps,
    finalLoss: foldInfo[name].reduce((a, f) => a + f.finalLoss, 0) / K,
  }));
  if (heldOut.length > 0) {
    const argmax = (row: number[]) => ctx.scheme.labels[decideGrade(row)];
    const gold = heldOut.map((p) => p.label);
    const targets = heldOut.map((p) => heldOutTargets.get(p.pair_id)!);
    for (const a of aux) {
      a.heldOut = computeMetrics(`select/${a.name}`, a.name === 'MS' ? targets : gold, heldSum[a.name].map(argmax), ctx.scheme);
      ctx.log?.(`select/${a.name} on ${heldOut.length} held-out pairs: accuracy ${(100 * a.heldOut.accuracy).toFixed(1)}%, macro-F1 ${(100 * a.heldOut.macro_f1).toFixed(1)}%`);
    }
  }

  const verdicts: AuxVerdict[] = train.map((p, i) => ({
    im: preds.IM[i]!.label,
    ci: preds.CI[i]!.label,
    ms: preds.MS[i]!.label,
    imPGold: preds.IM[i]!.probs[p.label],
  }));
  const records = decideSelection(train, verdicts, cfg, ctx.seed, msTargets, folds);
  const result = finish(ctx, cfg.selector, train, records, aux, teacher.id);
  result.fits = fits;
  return result;
}

function finish(ctx: StageContext | JudgeContext, selector: SelectionResult['selector'], train: PairRecord[], records: SelectionRecord[], aux: AuxSummary[], msTeacher: string | undefined): SelectionResult {
  const counts = countSelection(records);
  ctx.log?.(describeSelection(selector, counts));
  const result: SelectionResult = { selector, selected: train.filter((_, i) => records[i].kept), records, counts, aux };
  if (msTeacher !== undefined) result.msTeacher = msTeacher;
  return result;
}

/** label′ for each pair from the teacher, checked: a label of the scheme other than the annotation. */
async function confusableLabels(teacher: Pick<Teacher, 'id' | 'confusableLabel'>, ctx: StageContext | JudgeContext, pairs: readonly PairRecord[]): Promise<Map<string, string>> {
  const answers = await Promise.all(pairs.map((pair) => teacher.confusableLabel!({ pair, scheme: ctx.scheme, gold: pair.label })));
  const out = new Map<string, string>();
  pairs.forEach((p, i) => {
    const a = answers[i];
    if (!ctx.scheme.labels.includes(a) || a === p.label) {
      throw new UserError(`teacher ${teacher.id}: pair ${p.pair_id}: confusable label "${a}" must be a label of ${ctx.scheme.id} other than the annotated "${p.label}"`);
    }
    out.set(p.pair_id, a);
  });
  return out;
}

/**
 * Fine-tunes one aux model (from the run's base: the pretrained weights, else a fresh init, as
 * every aux model starts from the same base), predicts its fold's pairs and the held-out ones, and disposes it — also when
 * training is interrupted through ctx.signal.
 */
function trainAndPredict(
  ctx: StageContext | JudgeContext,
  salt: number,
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  labels: readonly string[] | undefined,
  steps: number,
  scored: readonly PairRecord[],
  heldOut: readonly PairRecord[],
  stage: string,
): { finalLoss: number; scored: LabelPrediction[]; heldOut: LabelPrediction[] } {
  // Only the step count is ours; warmup is clamped only so the schedule stays a schedule.
  const trainConfig = trainConfigFor(ctx, { steps, warmup: Math.min(ctx.trainConfig.warmup, steps - 1) }, salt);
  const onStep = (step: number, loss: number) => {
    ctx.progress?.(`select/${stage}`, step + 1, steps, { loss: loss.toFixed(3) });
    ctx.signal?.throwIfAborted();
  };
  const judge = (ctx.labelJudges ?? builtinJudges(ctx as StageContext, template)).train(pairs, labels, trainConfig, onStep);
  try {
    const tail = judge.losses.slice(-10);
    return {
      finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      scored: judge.predict(scored),
      heldOut: judge.predict(heldOut),
    };
  } finally {
    judge.dispose();
  }
}

/** The built-in judges: a fresh decoder (or the pretrained base's copy) on the run's tokenizer. */
function builtinJudges(ctx: StageContext, template: PromptTemplate): LabelJudges {
  return {
    train(pairs, labels, trainConfig, onStep) {
      const model = ctx.newModel?.() ?? new DecoderLM(ctx.modelConfig);
      const optimizer = makeOptimizer(model, trainConfig);
      try {
        const { rm, losses } = trainLabelModel(ctx.tokenizer, ctx.scheme, template, pairs, {
          modelConfig: ctx.modelConfig,
          trainConfig,
          labels,
          init: model,
          hooks: { optimizer, onStep },
        });
        return { losses, predict: (ps, batchSize) => predictLabels(rm, ps, batchSize), dispose: () => model.dispose() };
      } catch (err) {
        model.dispose();
        throw err;
      } finally {
        optimizer.dispose();
      }
    },
  };
}
