import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PairRecord } from '../data/schema.ts';
import { getScheme, labelIndex, type LabelScheme } from '../data/labels.ts';
import { loadDataset } from '../data/load.ts';
import { sample, splitByQuery } from '../data/split.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { computeMetrics, type MetricsRecord } from '../eval/metrics.ts';
import { decideSplits, decidedMacroF1, type DecisionMode, type GradeDecision } from '../eval/decision.ts';
import { ModelConfig, TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { presetFor } from '../model/presets.ts';
import { makeOptimizer } from '../train/loop.ts';
import { RUN_FILES, type PredictionRecord, type TrainingTrace } from '../runs/schema.ts';
import { codeVersion, dataHash, newRunId, writeRun } from '../runs/store.ts';
import { fromDataTeacher } from '../teachers/from-data.ts';
import { OpenAITeacher } from '../teachers/openai.ts';
import { RuleTeacher } from '../teachers/rules.ts';
import type { Teacher } from '../teachers/teacher.ts';
import { loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import { describePromptFit, promptFit } from '../text/prompt-fit.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { predictCrossEncoder, saveCrossEncoder, trainCrossEncoder } from './baselines/cross-encoder.ts';
import { earlyStopLine } from '../train/early-stop.ts';
import { predictLexical, trainLexical } from './baselines/lexical.ts';
import { trainConfigFor, type StageContext } from './context.ts';
import { collectRationales, disposeCot, predictWithRationale, runCot, type CotPrediction, type CotResult, type CotVariant } from './cot.ts';
import { predictAtAnswer } from './cot-predict.ts';
import { minePreferences, runDpo } from './dpo.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import { predictLabels, saveRelevanceModel, trainLabelModel, trainRunTokenizer, type LabelPrediction, type RelevanceModel } from './relevance-model.ts';
import { runSelection } from './select.ts';
import { ensurePretrained, generatorText, loadPretrained, type PipelinePretrain } from './pretrain.ts';
import { randomSelection, type SelectionRecord } from './select-rule.ts';
import { cotDataset, labelDataset, preferenceDataset } from './stage-datasets.ts';
import type { StageDatasets } from '../runs/store.ts';

/**
 * `lref pipeline`: every LREF stage in order on one split, every variant evaluated on the same
 * test pairs, one run folder (ARCHITECTURE.md §A run on disk).
 *
 *   data → split by query → tokenizer → lexical → cross_encoder → sft_all → selection (IM/CI/MS)
 *   → sft_random (the selection's budget) → sft_selected → +ee → +ra → +dr (sequential, from
 *   sft_selected) → beam mining on train → +dpo → run folder
 *
 * Each variant is evaluated as soon as it exists, on the valid split (where anything is chosen by
 * looking at results) and on the test split (reported), then checkpointed and freed (only the models
 * a later stage starts from stay in memory). Label variants are scored (one forward pass); CoT and
 * DPO variants are reported twice: generating rationale + grade, as LREF reports them (an output
 * with no readable grade counts against it, MetricsRecord.unparseable), and as "<name>:scored", the
 * grade scored at <answer> with the label prompt exactly as the label variants and the +label
 * control are — so a CoT gain over +label is like against like.
 */

/** Predictions' grade probabilities as rows in scheme order, as eval/decision.ts takes them. */
function probRows(scheme: LabelScheme, preds: readonly Pick<LabelPrediction, 'probs'>[]): number[][] {
  return preds.map((p) => scheme.labels.map((l) => p.probs[l]));
}

/**
 * A scored variant's grades on valid and test from its probabilities (eval/decision.ts: the rule
 * fitted on valid, valid decided out of fold, or argmax), the rule logged beside argmax's figure.
 */
export function decideVariant(
  variant: string,
  on: { scheme: LabelScheme; valid: readonly PairRecord[]; mode: DecisionMode; log: (line: string) => void },
  validPreds: readonly Pick<LabelPrediction, 'probs'>[],
  testPreds: readonly Pick<LabelPrediction, 'probs'>[],
): { decision?: GradeDecision; validLabels: string[]; testLabels: string[] } {
  const { scheme } = on;
  const gold = on.valid.map((p) => labelIndex(scheme, p.label));
  const d = decideSplits(scheme.labels.length, { probs: probRows(scheme, validPreds), gold }, probRows(scheme, testPreds), on.mode);
  if (d.decision) {
    const offsets = d.decision.offsets.map((o) => o.toFixed(1)).join(' / ');
    on.log(`${variant}: decision rule on valid — offsets ${offsets} (${scheme.labels.join(' / ')}); valid macro-F1 ${(100 * d.argmaxValidMacroF1).toFixed(1)} by argmax, ${(100 * d.decision.macro_f1).toFixed(1)} fitted in sample`);
  }
  const named = (grades: number[]) => grades.map((g) => scheme.labels[g]);
  return { decision: d.decision, validLabels: named(d.validGrades), testLabels: named(d.testGrades) };
}

/** The suffix of a CoT/DPO variant's scored twin in metrics.json. */
export const SCORED_SUFFIX = ':scored';

export interface PipelineOptions {
  /** the run folder (created; must not hold a finished run) */
  outDir: string;
  /** the TF.js backend already initialised (initBackend) */
  backend: string;
  progress?: StageContext['progress'];
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** fixed creation time (tests); default now */
  now?: Date;
  /** where config `pretrain` keeps its base (default: the run's pretrained/); a study shares one across seeds */
  pretrainDir?: string;
}

export interface PipelineResult {
  dir: string;
  runId: string;
  /** on the test split, in table order */
  metrics: MetricsRecord[];
  /** the same variants on the valid split (empty when the split has no valid pairs) */
  validMetrics: MetricsRecord[];
  timings: Record<string, number>;
  training: Record<string, TrainingTrace>;
}

export async function runPipeline(cfg: PipelineConfig, opts: PipelineOptions): Promise<PipelineResult> {
  // An imported Hugging Face model: every decoder variant is LoRA adapters on it (hf-pipeline.ts).
  if (cfg.hf) {
    if (cfg.pretrained !== undefined) throw new UserError('hf and pretrained both name a base model; give one');
    // Loaded on demand: it pulls in the Hugging Face tokenizer and template libraries, which a built-in run (and the notebook kernel's start) need not load.
    const { runHFPipeline } = await import('./hf-pipeline.ts');
    return runHFPipeline(cfg, opts);
  }
  // Templates first: a bad template path fails before pretraining or the run folder.
  const templates = loadTemplates(cfg);
  // A pretrained folder (lref pretrain, or `pretrain` here): its tokenizer and weights are the run's base, freed at the end.
  const tPre = performance.now();
  const preDir = cfg.pretrained ?? (cfg.pretrain ? await pretrainBase(cfg, cfg.pretrain, opts) : undefined);
  const pre = preDir !== undefined ? { dir: preDir, ...loadPretrained(preDir) } : undefined;
  const earlier: Record<string, number> = cfg.pretrained === undefined && cfg.pretrain ? { pretrain: (performance.now() - tPre) / 1000 } : {};
  try {
    return await pipelineRun(cfg, opts, templates, pre, earlier);
  } finally {
    pre?.model.dispose();
  }
}

/** Config `pretrain`: the base in opts.pretrainDir (a study's, shared by its seeds) or the run's own pretrained/. */
async function pretrainBase(cfg: PipelineConfig, p: PipelinePretrain, opts: PipelineOptions): Promise<string> {
  const dir = opts.pretrainDir ?? join(opts.outDir, 'pretrained');
  const { pairs, ...rest } = p;
  const text = cfg.data.source === 'generator' ? generatorText(pairs, p.seed) : await loadPipelineData(cfg);
  const pcfg = { ...rest, preset: cfg.model.preset, vocabSize: cfg.tokenizer.vocabSize, ...(cfg.model.contextLength ? { contextLength: cfg.model.contextLength } : {}) };
  ensurePretrained(dir, () => text, pcfg, { backend: opts.backend, log: opts.log, signal: opts.signal, progress: (d, n, loss) => opts.progress?.('pretrain', d, n, { loss: loss.toFixed(3) }) });
  return dir;
}

async function pipelineRun(
  cfg: PipelineConfig,
  opts: PipelineOptions,
  templates: Templates,
  pre: (ReturnType<typeof loadPretrained> & { dir: string }) | undefined,
  earlier: Record<string, number>,
): Promise<PipelineResult> {
  const start = await startRun(cfg, opts, earlier);
  const { dir, created, log, timed, data, scheme, split } = start;
  mkdirSync(dir, { recursive: true });
  const runId = newRunId(created, cfg.seed, dir);
  const test = split.test;
  const valid = split.valid;
  if (valid.length === 0) log('eval: the split has no valid pairs; metrics on test only (nothing can be chosen honestly on this run)');

  // 2. Teacher, tokenizer, model shape.
  const teacher = makeTeacher(cfg, data.source);
  const tokenizer = pre ? pre.tokenizer : await timed('tokenizer', () => buildTokenizer(cfg, split.train, templates, teacher, scheme));
  const modelConfig = pre ? { ...pre.model.config, seed: cfg.seed } : makeModelConfig(cfg, tokenizer.vocabSize);
  if (pre) log(`pretrained: ${pre.dir} (${pre.card.texts} texts from ${pre.card.source}, loss ${pre.card.loss.first10.toFixed(2)} → ${pre.card.loss.last10.toFixed(2)}); its tokenizer and model shape replace tokenizer.* and model.*`);
  const trainConfig = TrainConfig.parse({
    ...presetFor(cfg.model.preset, tokenizer.vocabSize).train,
    ...cfg.train,
    warmup: Math.min(cfg.train.warmup, Math.floor(cfg.train.steps / 10)),
    seed: cfg.seed,
  });
  const newModel = () => (pre ? pre.model.clone() : new DecoderLM(modelConfig));
  const ctx: StageContext = { tokenizer, scheme, modelConfig, trainConfig, seed: cfg.seed, backend: opts.backend, progress: opts.progress, log, signal: opts.signal, newModel };
  log(`model: ${modelConfig.nLayers} layers × ${modelConfig.dModel} wide, context ${modelConfig.contextLength}, vocabulary ${tokenizer.vocabSize}; backend ${opts.backend}`);
  // How many label prompts must be cut to fit: a cut prompt hides the end of its product text.
  for (const [name, pairs] of [['train', split.train], ['test', test]] as const) {
    log(describePromptFit(promptFit(tokenizer, templates.label, pairs, modelConfig.contextLength), `prompts (${name})`));
  }

  const metrics: MetricsRecord[] = [];
  const validMetrics: MetricsRecord[] = [];
  const predictions: PredictionRecord[] = [];
  const training: Record<string, TrainingTrace> = {};
  // Each stage's training data as text (datasets/), for export to other trainers.
  const datasets: { -readonly [K in keyof StageDatasets]: StageDatasets[K] } = { sft: [], cot: [], dpo: [] };
  const checkpoint = (variant: string) => join(dir, RUN_FILES.checkpoints, variant);
  const provenance = (variant: string) => ({ run_id: runId, variant, seed: cfg.seed, data_hash: data.hash });
  const short = (m: MetricsRecord) => `macro-F1 ${(100 * m.macro_f1).toFixed(2)}, accuracy ${(100 * m.accuracy).toFixed(2)}${m.unparseable ? `, ${m.unparseable} unparseable` : ''}`;
  /** Metrics on test (and valid, when it has pairs); `validLabels` aligned with `valid`. */
  const record = (variant: string, labels: (string | null)[], validLabels: (string | null)[]) => {
    const m = computeMetrics(variant, test.map((p) => p.label), labels, scheme);
    metrics.push(m);
    let line = `eval/${variant}: test ${short(m)}`;
    if (valid.length > 0) {
      const v = computeMetrics(variant, valid.map((p) => p.label), validLabels, scheme);
      validMetrics.push(v);
      line += `; valid ${short(v)}`;
    }
    log(line);
  };
  const decide = (variant: string, validPreds: readonly LabelPrediction[], testPreds: readonly LabelPrediction[]) =>
    decideVariant(variant, { scheme, valid, mode: cfg.eval.decision, log }, validPreds, testPreds);
  /** Scored predictions on test (kept in predictions.jsonl) and valid; returns the decision rule it fitted. */
  const recordScored = (variant: string, rm: Pick<RelevanceModel, 'model' | 'tokenizer' | 'scheme' | 'template'>): GradeDecision | undefined => {
    const probs = (pairs: readonly PairRecord[]) => predictLabels(rm, pairs, cfg.eval.batchSize);
    const testPreds = probs(test);
    const { decision, validLabels, testLabels } = decide(variant, probs(valid), testPreds);
    testPreds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant, label: testLabels[i], probs: p.probs }));
    record(variant, testLabels, validLabels);
    return decision;
  };

  // Early stopping ranks checkpoints by the macro-F1 of the grades the run will report.
  const validMacroF1 = (g: string[], p: LabelPrediction[]) =>
    decidedMacroF1(probRows(scheme, p), g.map((l) => labelIndex(scheme, l)), scheme.labels.length, cfg.eval.decision);
  const stopCriterion = `macro-F1 (${cfg.eval.decision === 'argmax' ? 'argmax' : 'grades by the decision rule fitted at each check'})`;

  // 3. Baselines.
  if (cfg.baselines.lexical) {
    await timed('lexical', () => {
      const model = trainLexical(split.train, scheme);
      writeFileAtomic(join(checkpoint('lexical'), 'lexical.json'), JSON.stringify(model) + '\n');
      const preds = predictLexical(model, test);
      preds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant: 'lexical', label: p.label, score: p.score }));
      record('lexical', preds.map((p) => p.label), predictLexical(model, valid).map((p) => p.label));
    });
  }
  if (cfg.baselines.crossEncoder.enabled) {
    await timed('cross_encoder', () => {
      const { enabled: _enabled, ...ceCfg } = cfg.baselines.crossEncoder;
      const { model, losses, curve, bestStep } = trainCrossEncoder(tokenizer, scheme, templates.label, split.train, ceCfg, {
        modelConfig,
        trainConfig: trainConfigFor(ctx, {}, 20),
        signal: opts.signal,
        onStep: (step, loss) => opts.progress?.('cross_encoder', step + 1, ceCfg.steps, { loss: loss.toFixed(3) }),
        validate: { pairs: valid, score: validMacroF1, batchSize: cfg.eval.batchSize },
      });
      try {
        training.cross_encoder = trainingTrace(losses, curve, bestStep);
        if (curve) log(earlyStopLine('cross_encoder', stopCriterion, curve, bestStep));
        const testPreds = predictCrossEncoder(model, test, cfg.eval.batchSize);
        const { decision, validLabels, testLabels } = decide('cross_encoder', predictCrossEncoder(model, valid, cfg.eval.batchSize), testPreds);
        testPreds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant: 'cross_encoder', label: testLabels[i], probs: p.probs }));
        record('cross_encoder', testLabels, validLabels);
        saveCrossEncoder(checkpoint('cross_encoder'), { ...model, ...(decision ? { decision } : {}) }, bestStep ?? losses.length);
      } finally {
        model.clf.dispose();
      }
    });
  }

  // 4. Stage 1: SFT on all data, selection, SFT on a random subset of the same size, SFT on the selection.
  const sft = (variant: string, pairs: readonly PairRecord[], salt: number, base?: DecoderLM): RelevanceModel => {
    const steps = base ? (cfg.train.subsetSteps ?? Math.max(1, Math.round(cfg.train.steps / 4))) : cfg.train.steps;
    const tc = trainConfigFor(ctx, base ? { steps, warmup: Math.min(cfg.train.warmup, Math.floor(steps / 10)) } : {}, salt);
    // Our own fresh model (or copy of the base) and optimizer, so an interrupt thrown from onStep can still free them.
    const init = base ? base.clone() : newModel();
    const optimizer = makeOptimizer(init, tc);
    let trained: ReturnType<typeof trainLabelModel>;
    try {
      trained = trainLabelModel(tokenizer, scheme, templates.label, pairs, {
        modelConfig,
        trainConfig: tc,
        init,
        hooks: {
          optimizer,
          onStep: (step, loss) => {
            opts.progress?.(variant, step + 1, steps, { loss: loss.toFixed(3) });
            opts.signal?.throwIfAborted();
          },
        },
        ...(cfg.train.earlyStop && valid.length > 0
          ? {
              validate: {
                pairs: valid,
                ...cfg.train.earlyStop,
                score: validMacroF1,
                batchSize: cfg.eval.batchSize,
              },
            }
          : {}),
      });
    } catch (err) {
      init.dispose();
      throw err;
    } finally {
      optimizer.dispose();
    }
    const { rm, losses, curve, bestStep } = trained;
    training[variant] = trainingTrace(losses, curve, bestStep);
    log(`${variant}: ${losses.length} steps on ${pairs.length} pairs, loss ${losses[0].toFixed(3)} → ${mean(losses.slice(-10)).toFixed(3)}`);
    if (curve) log(earlyStopLine(variant, stopCriterion, curve, bestStep));
    const decision = recordScored(variant, rm);
    saveRelevanceModel(checkpoint(variant), { ...rm, ...(decision ? { decision } : {}) }, { step: bestStep ?? losses.length, trainConfig: tc, backend: opts.backend, provenance: { ...provenance(variant), train_pairs: pairs.length } });
    return rm;
  };
  const sftAll = await timed('sft_all', () => sft('sft_all', split.train, 10));
  // Kept only while the subset fine-tunes continue from it (train.subsetBase 'sft_all').
  const subsetBase = cfg.train.subsetBase === 'sft_all' ? sftAll.model : undefined;
  if (!subsetBase) sftAll.model.dispose();
  // train.stopAfter 'sft_all': the baselines and sft_all only (a quick look, or tuning the label SFT on valid).
  let selectionRecords: SelectionRecord[] = [];
  if (cfg.stopAfter === 'sft_all') {
    subsetBase?.dispose();
    log('stopAfter sft_all: no selection, CoT or DPO in this run');
  } else {
    const stage1 = async () => {
      const selection = await timed('selection', () =>
        runSelection(ctx, split.train, cfg.selection, { template: templates.label, heldOut: split.valid, ...(teacher.confusableLabel ? { teacher } : {}) }),
      );
      const budget = selection.selected.length;
      if (budget === 0) throw new UserError('selection kept no pairs (selection.fallback "keep" with a rule that keeps nothing); nothing to fine-tune on');
      const randomRecords = randomSelection(selection.records, budget, cfg.seed);
      const randomPairs = split.train.filter((_, i) => randomRecords[i].kept);
      await timed('sft_random', () => sft('sft_random', randomPairs, 11, subsetBase).model.dispose());
      const selected = await timed('sft_selected', () => sft('sft_selected', selection.selected, 12, subsetBase));
      return { selection, selected };
    };
    let stage1Result: Awaited<ReturnType<typeof stage1>>;
    try {
      stage1Result = await stage1();
    } finally {
      subsetBase?.dispose();
    }
    const { selection, selected } = stage1Result;
    datasets.sft = labelDataset(templates.label, selection.selected);

    // 5. Stage 2: Multi-CoT from sft_selected.
    const { teacher: _t, pairs: cotOn, ...cotCfg } = cfg.cot;
    const cotPairs = cotOn === 'selected' ? selection.selected : split.train;
    const cot = await timed('cot', async () => {
      try {
        return await runCot(ctx, selected, cotPairs, cotCfg, teacher);
      } finally {
        selected.model.dispose();
      }
    });
    let policy: CotVariant | undefined;
    const withLayout = (t: PromptTemplate) => (cfg.cot.answerFirst === undefined ? t : { ...t, answerFirst: cfg.cot.answerFirst });
    datasets.cot = cotDataset({ ee: withLayout(templates.ee), ra: withLayout(templates.ra), dr: withLayout(templates.dr) }, cotPairs, cot.rationales, scheme, cfg.cot.rules);
    try {
      for (const v of cot.variants) {
        training[v.name] = { steps: v.losses.length, losses: v.losses };
        await timed(`eval/${v.name}`, () => recordGenerated(v.name, { ...v.model, template: v.cotTemplate }, v.rules));
        await timed(`eval/${v.name}${SCORED_SUFFIX}`, () => recordScored(`${v.name}${SCORED_SUFFIX}`, { ...v.model, template: templates.label }));
        saveRelevanceModel(checkpoint(v.name), { ...v.model, template: v.cotTemplate }, {
          step: v.losses.length,
          backend: opts.backend,
          provenance: { ...provenance(v.name), cot_pairs: cotPairs.length, teacher: cot.teacher },
        });
      }
      if (cot.control) {
        // cot.control: the label-only twin of the first CoT run (same pairs and steps), scored.
        const { model, losses } = cot.control;
        training['+label'] = { steps: losses.length, losses };
        const decision = await timed('eval/+label', () => recordScored('+label', model));
        saveRelevanceModel(checkpoint('+label'), { ...model, ...(decision ? { decision } : {}) }, { step: losses.length, backend: opts.backend, provenance: { ...provenance('+label'), cot_pairs: cotPairs.length } });
      }
      policy = cot.variants[cot.variants.length - 1];

      // 6. Stage 3: mine preferences on train with the last CoT model, then DPO against it.
      const asked: RelevanceModel = { ...policy.model, template: policy.cotTemplate };
      const minePool = await dpoMinePool(ctx, cfg, split.train, policy.cotTemplate.kind as 'ee' | 'ra', cot.rationales, teacher);
      const prefs = await timed('dpo/mine', () => minePreferences(ctx, asked, minePool, cfg.dpo.mine, { rules: policy!.rules, scheme }));
      datasets.dpo = preferenceDataset(asked.template, minePool, prefs, tokenizer, scheme, policy.rules);
      if (prefs.length === 0) {
        // Nothing to prefer: DPO would not move the policy, so +dpo is the policy itself (said so in notes).
        log(`dpo: no preference pairs mined from ${minePool.length} train pairs; +dpo is ${policy.name} unchanged`);
        training['+dpo'] = { steps: 0, losses: [] };
        await timed('eval/+dpo', () => recordGenerated('+dpo', asked, policy!.rules));
        await timed(`eval/+dpo${SCORED_SUFFIX}`, () => recordScored(`+dpo${SCORED_SUFFIX}`, { ...asked, template: templates.label }));
      } else {
        // As train.earlyStop: no valid pairs, no checkpoint choice (the run's notes already say nothing could be chosen).
        const dpoCfg = valid.length > 0 ? cfg.dpo.train : { ...cfg.dpo.train, validate: undefined };
        const check = dpoCfg.validate ? dpoValidCheck(valid, scheme, policy.rules, cfg.eval) : undefined;
        const dpo = await timed('dpo', () => runDpo(ctx, asked, prefs, dpoCfg, check));
        try {
          const checks = dpo.curve?.map((c) => ({ step: c.step, accuracy: c.accuracy, optimistic_share: c.optimisticShare }));
          training['+dpo'] = trainingTrace(dpo.log.map((l) => l.loss), checks, dpo.bestStep);
          if (dpo.curve) log(`+dpo: checkpoint choice on valid (accuracy / optimistic share) — ${dpo.curve.map((c) => `${c.step}: ${(100 * c.accuracy).toFixed(1)} / ${(100 * c.optimisticShare).toFixed(1)}`).join(', ')}; kept step ${dpo.bestStep}`);
          await timed('eval/+dpo', () => recordGenerated('+dpo', dpo.model, policy!.rules));
          await timed(`eval/+dpo${SCORED_SUFFIX}`, () => recordScored(`+dpo${SCORED_SUFFIX}`, { ...dpo.model, template: templates.label }));
          saveRelevanceModel(checkpoint('+dpo'), dpo.model, { step: dpo.bestStep ?? dpo.log.length, backend: opts.backend, provenance: { ...provenance('+dpo'), preference_pairs: prefs.length } });
        } finally {
          dpo.model.model.dispose();
        }
      }
    } finally {
      disposeCot(cot);
    }
    selectionRecords = selection.records;
  }

  function recordGenerated(variant: string, rm: RelevanceModel, rules: string | undefined): void {
    const generate = (pairs: readonly PairRecord[], stage: string) =>
      predictWithRationale(rm, pairs, {
        rules,
        maxNewTokens: cfg.eval.maxNewTokens,
        signal: opts.signal,
        onProgress: (done, total) => opts.progress?.(stage, done, total),
      });
    const preds = generate(test, `eval/${variant}`);
    const validPreds = generate(valid, `eval/${variant} (valid)`);
    predictions.push(...generatedRows(test, variant, rm.template, preds));
    record(variant, preds.map((p) => p.label), validPreds.map((p) => p.label));
  }

  // 7. The run folder.
  return finishRun(cfg, opts, start, runId, { selection: selectionRecords, predictions, datasets, metrics, validMetrics, training });
}

// ------------------------------------------------------------------------------------------------

/** predictions.jsonl rows of a generating variant: grade (null: unparseable, its raw text kept) and rationale. */
export function generatedRows(pairs: readonly PairRecord[], variant: string, template: PromptTemplate, preds: readonly CotPrediction[]): PredictionRecord[] {
  const kind = template.kind === 'label' ? undefined : template.kind;
  return preds.map((p, i) => ({
    pair_id: pairs[i].pair_id,
    variant,
    label: p.label,
    rationale: p.rationale,
    ...(kind ? { cot_kind: kind } : {}),
    ...(p.unparseable ? { raw: p.raw } : {}),
  }));
}

/**
 * DpoConfig.validate's check on the valid split: the policy's grades as the +dpo variant will be
 * read (at the answer for an answer-first layout, else by generation), as accuracy and
 * optimistic-error share.
 */
export function dpoValidCheck(valid: readonly PairRecord[], scheme: LabelScheme, rules: string | undefined, ev: PipelineConfig['eval']) {
  const gold = valid.map((p) => p.label);
  return (rm: RelevanceModel) => {
    const labels = rm.template.answerFirst
      ? predictAtAnswer(rm, valid, { rules, maxNewTokens: ev.maxNewTokens, batchSize: ev.batchSize })
      : predictWithRationale(rm, valid, { rules, maxNewTokens: ev.maxNewTokens }).map((p) => p.label);
    const m = computeMetrics('+dpo (valid)', gold, labels, scheme);
    return { accuracy: m.accuracy, optimisticShare: m.optimistic_error_share };
  };
}

/**
 * The train pairs DPO mines on (dpo.minePairs, seeded), each carrying the teacher's `kind` rationale:
 * the CoT stage's where it wrote one, else asked now. It backs the chosen side when no beam holds
 * the right grade (MineConfig.teacherFallback).
 */
export async function dpoMinePool(
  ctx: Pick<StageContext, 'scheme' | 'signal' | 'progress'>,
  cfg: PipelineConfig,
  train: readonly PairRecord[],
  kind: 'ee' | 'ra',
  rationales: CotResult<unknown>['rationales'],
  teacher: Teacher,
): Promise<PairRecord[]> {
  const byId = new Map((rationales[kind] ?? []).map((r) => [r.pair_id, r.rationale]));
  const pool = sample(train, Math.min(cfg.dpo.minePairs, train.length), new Rng(cfg.seed).fork('dpo/mine'));
  const missing = pool.filter((p) => !byId.has(p.pair_id));
  const teacherRules = cfg.cot.teacherRules ?? cfg.cot.rules ?? loadTemplate(cfg.cot.templates.ra ?? 'ra').defaults?.rules;
  const extra = await collectRationales(ctx, missing, kind, teacher, new Rng(cfg.seed).fork('dpo/teacher'), { concurrency: cfg.cot.concurrency, rules: teacherRules });
  for (const r of extra) byId.set(r.pair_id, r.rationale);
  return pool.map((p) => ({ ...p, rationales: { ...p.rationales, [kind]: byId.get(p.pair_id)! } }));
}

interface PipelineData {
  pairs: PairRecord[];
  scheme: string;
  /** "generator" or the resolved file path */
  source: string;
  hash: string;
}

/**
 * What every kind of run does first: refuse a folder that holds a finished run, start the notes log
 * and the stage timings (`earlier`: seconds of stages run before it), load the data and split it by query. Making the folder is the caller's
 * (an imported-model run loads its model first, so a bad model leaves no folder behind).
 */
export async function startRun(cfg: PipelineConfig, opts: PipelineOptions, earlier: Record<string, number> = {}) {
  const dir = opts.outDir;
  if (existsSync(join(dir, RUN_FILES.run))) throw new UserError(`${dir}: already holds a finished run (run.json); choose another --out`);
  const created = opts.now ?? new Date();
  const notes: string[] = [];
  const log = (line: string) => {
    notes.push(line);
    opts.log?.(line);
  };
  // Stages that ran before the run started (the in-run pretraining) lead the table and count in the total.
  const timings: Record<string, number> = { ...earlier };
  const t0 = performance.now() - 1000 * Object.values(earlier).reduce((a, b) => a + b, 0);
  const timed = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = (performance.now() - t) / 1000;
    }
  };
  const data = await timed('data', () => loadPipelineData(cfg));
  const scheme = getScheme(data.scheme);
  const split = splitByQuery(data.pairs, { ...cfg.split, seed: cfg.seed });
  if (split.train.length === 0 || split.test.length === 0) {
    throw new UserError(`${data.source}: too few queries to split (${data.pairs.length} pairs → ${split.train.length} train, ${split.test.length} test)`);
  }
  log(`data: ${data.pairs.length} pairs from ${data.source} (scheme ${scheme.id}); ${split.train.length} train / ${split.valid.length} valid / ${split.test.length} test`);
  return { dir, created, notes, log, timings, t0, timed, data, scheme, split };
}

/** What a run produced, as finishRun writes it. */
export interface RunOutputs {
  selection: SelectionRecord[];
  predictions: PredictionRecord[];
  datasets: StageDatasets;
  metrics: MetricsRecord[];
  validMetrics: MetricsRecord[];
  training: Record<string, TrainingTrace>;
}

/** What every kind of run does last: close the timings and write the run folder (metrics.json, run.json, …). */
export function finishRun(cfg: PipelineConfig, opts: PipelineOptions, start: Awaited<ReturnType<typeof startRun>>, runId: string, out: RunOutputs): PipelineResult {
  const { dir, created, notes, timings, t0, data, scheme, split } = start;
  const { metrics, validMetrics, training } = out;
  timings.total = (performance.now() - t0) / 1000;
  const common = { config: cfg, seed: cfg.seed, backend: opts.backend, timings };
  writeRun(dir, {
    pairs: split.test,
    selection: out.selection,
    predictions: out.predictions,
    datasets: out.datasets,
    metrics: { version: 1, run_id: runId, data_hash: data.hash, ...common, variants: metrics, ...(validMetrics.length > 0 ? { valid_variants: validMetrics } : {}) },
    run: {
      version: 1,
      id: runId,
      created: created.toISOString(),
      ...common,
      data: { source: data.source, scheme: scheme.id, hash: data.hash, pairs: data.pairs.length, split: { train: split.train.length, valid: split.valid.length, test: split.test.length } },
      code_version: codeVersion(),
      variants: metrics.map((m) => m.name),
      training,
      notes,
    },
  });
  return { dir, runId, metrics, validMetrics, timings, training };
}

export async function loadPipelineData(cfg: PipelineConfig): Promise<PipelineData> {
  const d = cfg.data;
  if (d.source === 'generator') {
    const ds = generateDataset({ pairs: d.pairs, seed: cfg.seed, noise: d.noise });
    return { pairs: ds.pairs, scheme: ds.scheme, source: 'generator', hash: dataHash(ds.pairs) };
  }
  const ds = await loadDataset(d.path, { format: d.format, scheme: d.scheme });
  return { pairs: ds.pairs, scheme: ds.scheme, source: ds.source, hash: dataHash(ds.pairs) };
}

interface Templates {
  label: PromptTemplate;
  ee: PromptTemplate;
  ra: PromptTemplate;
  dr: PromptTemplate;
}

/** The run's prompt templates from the config; an error names the config key and the file. */
function loadTemplates(cfg: PipelineConfig): Templates {
  const load = (key: string, pathOrId: string, kind: PromptTemplate['kind']) => {
    let t: PromptTemplate;
    try {
      t = loadTemplate(pathOrId);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${key}: ${err.message}`);
      throw err;
    }
    if (t.kind !== kind) throw new UserError(`${key}: ${pathOrId} is a "${t.kind}" template; this stage needs kind "${kind}"`);
    return t;
  };
  const t = cfg.cot.templates;
  return {
    label: load('train.template', cfg.train.template, 'label'),
    ee: load('cot.templates.ee', t.ee ?? 'ee', 'ee'),
    ra: load('cot.templates.ra', t.ra ?? 'ra', 'ra'),
    dr: load('cot.templates.dr', t.dr ?? 'dr', 'dr'),
  };
}

export function makeTeacher(cfg: PipelineConfig, source: string): Teacher {
  const t = cfg.cot.teacher;
  if (t.kind === 'rules') return new RuleTeacher(t.maxWords !== undefined ? { maxWords: t.maxWords } : {});
  if (t.kind === 'data') return fromDataTeacher(source);
  return new OpenAITeacher(t.openai);
}

/**
 * One tokenizer for the run, trained on a sample of the train split rendered through every
 * template, plus EE and RA rationales for a few train pairs so the CoT text has merges too (the
 * data teacher's are read from the pairs; a generating teacher is asked, and a cached LLM teacher
 * answers stage 2 from the same cache).
 */
async function buildTokenizer(cfg: PipelineConfig, train: readonly PairRecord[], templates: Templates, teacher: Teacher, scheme: LabelScheme) {
  const rng = new Rng(cfg.seed).fork('tokenizer');
  const pairs = rng.shuffle(train).slice(0, cfg.tokenizer.samplePairs);
  const texts: string[] = [];
  for (const p of pairs.slice(0, cfg.tokenizer.rationalePairs)) {
    for (const kind of ['ee', 'ra'] as const) {
      if (cfg.cot.teacher.kind === 'data') {
        const text = p.rationales?.[kind];
        if (text) texts.push(text);
      } else {
        texts.push(await teacher.rationale({ kind, pair: p, scheme, gold: p.label }));
      }
    }
  }
  return trainRunTokenizer(pairs, [templates.label, templates.ee, templates.ra, templates.dr], cfg.tokenizer.vocabSize, texts);
}

export function makeModelConfig(cfg: PipelineConfig, vocabSize: number): ModelConfig {
  const { preset, ...overrides } = cfg.model;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = ModelConfig.safeParse({ ...presetFor(preset, vocabSize).model, ...defined, seed: cfg.seed });
  if (!parsed.success) throw new UserError(`model: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The run record's trace; with a choice on valid it names the kept step, since `steps` counts all trained. */
function trainingTrace(losses: number[], checks: TrainingTrace['valid_curve'], keptStep: number | undefined): TrainingTrace {
  return { steps: losses.length, losses, ...(checks ? { kept_step: keptStep, valid_curve: [...checks] } : {}) };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
