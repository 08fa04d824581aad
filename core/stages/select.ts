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
import { trainConfigFor, type StageContext } from './context.ts';
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
 * queries, MS on the teacher's confusable label′ instead of the annotation — then each predicts
 * every train pair, and select-rule.ts keeps the hard, learnable, plausibly-labelled ones. The aux
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
  trainPairs: number;
  steps: number;
  /** mean loss of the last (up to) 10 steps */
  finalLoss: number;
  /** on `heldOut`: IM and CI against the gold labels, MS against the teacher's label′ (what it learned) */
  heldOut?: MetricsRecord;
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
}

/** Runs stage 1's selection on `train` (every label must belong to ctx.scheme). */
export async function runSelection(ctx: StageContext, train: PairRecord[], cfgInput: SelectionConfigInput, inputs: SelectionInputs = {}): Promise<SelectionResult> {
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

  // Samples: one seeded stream per model, so changing one sample's size leaves the others alone.
  const rng = new Rng(ctx.seed).fork('select');
  const n = Math.max(1, Math.round(cfg.auxSampleFraction * train.length));
  const imSample = sample(train, n, rng.fork('IM'));
  if (train.every((p) => p.query_freq === undefined)) ctx.log?.('select: no query_freq in the data; CI trains on a plain random sample');
  const ciSample = sampleBalanced(train, 'query_freq', n, rng.fork('CI'));
  const msSample = sample(train, n, rng.fork('MS'));
  const msTargets = await confusableLabels(teacher, ctx, msSample);
  const heldOutTargets = heldOut.length > 0 ? await confusableLabels(teacher, ctx, heldOut) : new Map<string, string>();

  const steps = cfg.auxSteps ?? ctx.trainConfig.steps;
  const im = trainAndPredict(ctx, 'IM', 1, template, imSample, undefined, steps, train, heldOut);
  const ci = trainAndPredict(ctx, 'CI', 2, template, ciSample, undefined, steps, train, heldOut);
  const ms = trainAndPredict(ctx, 'MS', 3, template, msSample, msSample.map((p) => msTargets.get(p.pair_id)!), steps, train, heldOut);

  const aux: AuxSummary[] = [im.summary, ci.summary, ms.summary];
  if (heldOut.length > 0) {
    const gold = heldOut.map((p) => p.label);
    im.summary.heldOut = computeMetrics('select/IM', gold, im.heldOut.map((x) => x.label), ctx.scheme);
    ci.summary.heldOut = computeMetrics('select/CI', gold, ci.heldOut.map((x) => x.label), ctx.scheme);
    const targets = heldOut.map((p) => heldOutTargets.get(p.pair_id)!);
    ms.summary.heldOut = computeMetrics('select/MS', targets, ms.heldOut.map((x) => x.label), ctx.scheme);
    for (const a of aux) ctx.log?.(`select/${a.name} on ${heldOut.length} held-out pairs: accuracy ${(100 * a.heldOut!.accuracy).toFixed(1)}%, macro-F1 ${(100 * a.heldOut!.macro_f1).toFixed(1)}%`);
  }

  const verdicts: AuxVerdict[] = train.map((p, i) => ({
    im: im.train[i].label,
    ci: ci.train[i].label,
    ms: ms.train[i].label,
    imPGold: im.train[i].probs[p.label],
  }));
  const records = decideSelection(train, verdicts, cfg, ctx.seed, msTargets);
  return finish(ctx, cfg.selector, train, records, aux, teacher.id);
}

function finish(ctx: StageContext, selector: SelectionResult['selector'], train: PairRecord[], records: SelectionRecord[], aux: AuxSummary[], msTeacher: string | undefined): SelectionResult {
  const counts = countSelection(records);
  ctx.log?.(describeSelection(selector, counts));
  const result: SelectionResult = { selector, selected: train.filter((_, i) => records[i].kept), records, counts, aux };
  if (msTeacher !== undefined) result.msTeacher = msTeacher;
  return result;
}

/** label′ for each pair from the teacher, checked: a label of the scheme other than the annotation. */
async function confusableLabels(teacher: Pick<Teacher, 'id' | 'confusableLabel'>, ctx: StageContext, pairs: readonly PairRecord[]): Promise<Map<string, string>> {
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
 * Fine-tunes one aux model (fresh weights from the run's model config, as every aux model starts
 * from the same base), predicts the train pairs and the held-out ones, and disposes it — also when
 * training is interrupted through ctx.signal.
 */
function trainAndPredict(
  ctx: StageContext,
  name: AuxName,
  salt: number,
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  labels: readonly string[] | undefined,
  steps: number,
  train: readonly PairRecord[],
  heldOut: readonly PairRecord[],
): { summary: AuxSummary; train: LabelPrediction[]; heldOut: LabelPrediction[] } {
  // Only the step count is ours; warmup is clamped only so the schedule stays a schedule.
  const trainConfig = trainConfigFor(ctx, { steps, warmup: Math.min(ctx.trainConfig.warmup, steps - 1) }, salt);
  const model = new DecoderLM(ctx.modelConfig);
  const optimizer = makeOptimizer(model, trainConfig);
  try {
    const { rm, losses } = trainLabelModel(ctx.tokenizer, ctx.scheme, template, pairs, {
      modelConfig: ctx.modelConfig,
      trainConfig,
      labels,
      init: model,
      hooks: {
        optimizer,
        onStep: (step, loss) => {
          ctx.progress?.(`select/${name}`, step + 1, steps, { loss: loss.toFixed(3) });
          ctx.signal?.throwIfAborted();
        },
      },
    });
    const tail = losses.slice(-10);
    return {
      summary: { name, trainPairs: pairs.length, steps, finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length },
      train: predictLabels(rm, train),
      heldOut: predictLabels(rm, heldOut),
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}
