import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PairRecord } from '../data/schema.ts';
import type { LabelPrediction } from './relevance-model.ts';
import { computeMetrics, type MetricsRecord } from '../eval/metrics.ts';
import { TrainConfig } from '../model/config.ts';
import type { LoraConfigInput } from '../model/hf/base.ts';
import { presetFor } from '../model/presets.ts';
import { makeOptimizer, trainLM } from '../train/loop.ts';
import { RUN_FILES, type PredictionRecord, type TrainingTrace } from '../runs/schema.ts';
import { newRunId } from '../runs/store.ts';
import { UserError } from '../util/errors.ts';
import type { StageDatasets } from '../runs/store.ts';
import type { CotKind, Teacher } from '../teachers/teacher.ts';
import { loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { predictLexical, trainLexical } from './baselines/lexical.ts';
import { trainConfigFor, type JudgeContext, type LabelJudges, type TrainedLabelJudge } from './context.ts';
import { disposeCot, runCotWith } from './cot.ts';
import { dpoTrain } from './dpo.ts';
import { generateHFCot, hfCotDataset, hfCotEncoding, mineHFPreferences } from './hf-cot.ts';
import { eosId, gradeTokenIds, hfLabelExamples, loadHFJudge, padId, predictHF, promptText, saveHFAdapter, type HFRelevanceModel } from './hf-relevance.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import type { PipelineOptions, PipelineResult } from './pipeline.ts';
import { decideVariant, dpoMinePool, finishRun, generatedRows, makeTeacher, SCORED_SUFFIX, startRun } from './pipeline.ts';
import { runSelection } from './select.ts';
import { randomSelection, type SelectionRecord } from './select-rule.ts';

/**
 * `lref pipeline` on an imported Hugging Face model (config `hf`, CLI `--model`): the same run
 * folder as the built-in pipeline, every decoder variant LoRA adapters on one frozen base.
 *
 *   data → split → lexical → zero_shot (the base as is) → sft_all → selection (IM/CI/MS, each
 *   fresh adapters on the same base, through StageContext.labelJudges) → sft_random → sft_selected
 *   → +ee → +ra → +dr (runCotWith with hf-cot.ts's encoding, continuing sft_selected's adapters)
 *   → beam mining on train with the last CoT variant → +dpo → run folder
 *
 * CoT and DPO variants are reported as on the built-in path: generated (rationale, then the grade
 * parsed from the model's text; unparseable outputs count as errors) and scored ("<name>:scored",
 * the grade tokens' probabilities after the label prompt). Scored variants decide grades by the
 * rule fitted on valid (decideVariant), which label checkpoints save. Not here (said in the run's notes): the
 * cross-encoder baseline (it trains its own encoder on a run tokenizer an imported run does not build).
 * Checkpoints are PEFT adapter folders (checkpoints/<variant>/adapter_config.json): `lref model
 * export RUN/checkpoints/V --out DIR` merges one, `lref serve --model DIR` serves it.
 */
/**
 * An imported model's grades on valid and test, decided as every scored variant's are
 * (decideVariant); the model is scored without any rule it already carries, so the rule is refitted.
 */
export function decideHFVariant(
  variant: string,
  rm: HFRelevanceModel,
  on: Parameters<typeof decideVariant>[1] & { test: readonly PairRecord[]; batchSize?: number },
): ReturnType<typeof decideVariant> & { testPreds: LabelPrediction[] } {
  const asScored = { ...rm, decision: undefined };
  const testPreds = predictHF(asScored, on.test, on.batchSize);
  return { ...decideVariant(variant, on, predictHF(asScored, on.valid, on.batchSize), testPreds), testPreds };
}

export async function runHFPipeline(cfg: PipelineConfig, opts: PipelineOptions): Promise<PipelineResult> {
  const hf = cfg.hf;
  if (!hf) throw new Error('runHFPipeline: config has no hf');
  const start = await startRun(cfg, opts);
  const { dir, created, log, timed, data, scheme, split } = start;
  const { train, valid, test } = split;

  // The frozen base: loaded once, shared by every variant's adapters (clone() shares the weights).
  const base = loadHFJudge(hf.dir, scheme, { contextLength: hf.contextLength });
  mkdirSync(dir, { recursive: true });
  const runId = newRunId(created, cfg.seed, dir);
  try {
    const grades = gradeTokenIds(base.tokenizer, scheme);
    log(
      `model: ${base.model.spec.modelType} from ${base.baseDir} (${(base.model.numParams() / 1e6).toFixed(2)}M frozen parameters), context ${base.model.config.contextLength}; ` +
        `grades read as its tokens ${scheme.labels.map((l, i) => `${l}=${grades[i]}`).join(', ')}; LoRA rank ${hf.lora.rank} on ${hf.lora.targets.length ? hf.lora.targets.join(',') : 'all projections'}; backend ${opts.backend}`,
    );
    if (cfg.pretrain) log('pretrain: not run (the imported model is the base)');
    if (cfg.baselines.crossEncoder.enabled) log('cross_encoder: skipped (it trains its own encoder on a run tokenizer; an imported-model run uses the model’s tokenizer)');
    if (cfg.train.template !== 'label') log(`train.template: not applied to an imported model; its prompts are the instruction in its own words (hf-relevance.ts)`);
    if (cfg.train.earlyStop) log('train.earlyStop: not applied to adapters on an imported model; every variant trains its full steps');
    if (cfg.dpo.train.validate) log('dpo.train.validate: not applied to adapters on an imported model; +dpo keeps its last step');
    const evalBatch = Math.min(cfg.eval.batchSize, 16);
    const trainConfig = TrainConfig.parse({
      ...presetFor(cfg.model.preset, base.model.spec.vocabSize).train,
      ...cfg.train,
      lr: hf.lr ?? cfg.train.lr,
      weightDecay: 0,
      warmup: Math.min(cfg.train.warmup, Math.floor(cfg.train.steps / 10)),
      seed: cfg.seed,
    });
    const ctx: JudgeContext = {
      scheme,
      trainConfig,
      seed: cfg.seed,
      backend: opts.backend,
      progress: opts.progress,
      log,
      signal: opts.signal,
      labelJudges: loraJudges(base, hf.lora),
    };

    const metrics: MetricsRecord[] = [];
    const validMetrics: MetricsRecord[] = [];
    const predictions: PredictionRecord[] = [];
    const training: Record<string, TrainingTrace> = {};
    // Each stage's training data as text (datasets/, for `lref export --to trl`): prompts as the model saw them.
    const datasets: { -readonly [K in keyof StageDatasets]: StageDatasets[K] } = { sft: [], cot: [], dpo: [] };
    const checkpoint = (variant: string) => join(dir, RUN_FILES.checkpoints, variant);
    const short = (m: MetricsRecord) => `macro-F1 ${(100 * m.macro_f1).toFixed(2)}, accuracy ${(100 * m.accuracy).toFixed(2)}${m.unparseable ? `, ${m.unparseable} unparseable` : ''}`;
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
    /** Scored on test and valid, grades by the run's decision rule; returns the rule it fitted on valid (saved with the adapters). */
    const recordScored = (variant: string, rm: HFRelevanceModel): HFRelevanceModel => {
      const { decision, validLabels, testLabels, testPreds } = decideHFVariant(variant, rm, { scheme, valid, test, mode: cfg.eval.decision, log, batchSize: evalBatch });
      testPreds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant, label: testLabels[i], probs: p.probs }));
      record(variant, testLabels, validLabels);
      return { ...rm, decision };
    };

    if (cfg.baselines.lexical) {
      await timed('lexical', () => {
        const model = trainLexical(train, scheme);
        writeFileAtomic(join(checkpoint('lexical'), 'lexical.json'), JSON.stringify(model) + '\n');
        const preds = predictLexical(model, test);
        preds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant: 'lexical', label: p.label, score: p.score }));
        record('lexical', preds.map((p) => p.label), predictLexical(model, valid).map((p) => p.label));
      });
    }
    // The pretrained model as it came: what fine-tuning has to beat.
    await timed('zero_shot', () => recordScored('zero_shot', base));

    // Label SFT: fresh adapters (or sft_all's, train.subsetBase 'sft_all') trained, scored, saved.
    const sft = (variant: string, pairs: readonly PairRecord[], salt: number, from?: HFRelevanceModel): HFRelevanceModel => {
      const steps = from ? (cfg.train.subsetSteps ?? Math.max(1, Math.round(cfg.train.steps / 4))) : cfg.train.steps;
      const tc = trainConfigFor(ctx, from ? { steps, warmup: Math.min(cfg.train.warmup, Math.floor(steps / 10)) } : {}, salt);
      const judge = loraJudges(from ?? base, hf.lora, from !== undefined).train(pairs, undefined, tc, (step, loss) => {
        opts.progress?.(variant, step + 1, steps, { loss: loss.toFixed(3) });
        opts.signal?.throwIfAborted();
      });
      training[variant] = { steps: judge.losses.length, losses: judge.losses };
      log(`${variant}: ${judge.losses.length} LoRA steps on ${pairs.length} pairs, loss ${judge.losses[0].toFixed(3)} → ${mean(judge.losses.slice(-10)).toFixed(3)}`);
      try {
        saveHFAdapter(checkpoint(variant), recordScored(variant, judge.rm));
      } catch (err) {
        judge.dispose();
        throw err;
      }
      return judge.rm;
    };

    /** Generated (rationale, then the grade parsed) on test and valid; unparseable outputs count as errors. */
    const recordGenerated = (variant: string, rm: HFRelevanceModel, template: PromptTemplate, rules: string | undefined) => {
      const generate = (pairs: readonly PairRecord[], stage: string) =>
        generateHFCot(rm, pairs, { template, rules, maxNewTokens: cfg.eval.maxNewTokens, batchSize: evalBatch, signal: opts.signal, onProgress: (d, n) => opts.progress?.(stage, d, n) });
      const preds = generate(test, `eval/${variant}`);
      predictions.push(...generatedRows(test, variant, template, preds));
      record(variant, preds.map((p) => p.label), generate(valid, `eval/${variant} (valid)`).map((p) => p.label));
    };

    // Multi-CoT from sft_selected (its adapters continued, as the built-in path continues its weights), then
    // DPO from the last CoT variant on beam-mined preferences; each variant generated and scored (SCORED_SUFFIX).
    const cotAndDpo = async (selectedPairs: readonly PairRecord[], selected: HFRelevanceModel, teacher: Teacher) => {
      const { teacher: _t, pairs: cotOn, ...cotCfg } = cfg.cot;
      const cotPairs = cotOn === 'selected' ? selectedPairs : train;
      const tok = selected.tokenizer;
      datasets.sft = selectedPairs.map((p) => ({ pair_id: p.pair_id, kind: 'label', prompt: promptText(tok, scheme, p), completion: (tok.chatTemplate ? '' : ' ') + p.label, label: p.label }));
      const cot = await timed('cot', async () => {
        try {
          return await runCotWith(ctx, selected.model, cotPairs, cotCfg, teacher, hfCotEncoding(selected));
        } finally {
          selected.model.dispose();
        }
      });
      try {
        const template = (k: CotKind) => {
          const t = loadTemplate(cfg.cot.templates[k] ?? k);
          return cfg.cot.answerFirst === undefined ? t : { ...t, answerFirst: cfg.cot.answerFirst };
        };
        datasets.cot = hfCotDataset(selected, { ee: template('ee'), ra: template('ra'), dr: template('dr') }, cotPairs, cot.rationales, cfg.cot.rules);
        for (const v of cot.variants) {
          training[v.name] = { steps: v.losses.length, losses: v.losses };
          await timed(`eval/${v.name}`, () => recordGenerated(v.name, v.model, v.cotTemplate, v.rules));
          await timed(`eval/${v.name}${SCORED_SUFFIX}`, () => recordScored(`${v.name}${SCORED_SUFFIX}`, v.model));
          // Saved for generation (its grades are the model's text), so without the scored twin's rule.
          saveHFAdapter(checkpoint(v.name), v.model);
        }
        if (cot.control) {
          training['+label'] = { steps: cot.control.losses.length, losses: cot.control.losses };
          const control = await timed('eval/+label', () => recordScored('+label', cot.control!.model));
          saveHFAdapter(checkpoint('+label'), control);
        }
        const policy = cot.variants[cot.variants.length - 1];
        const ask = { template: policy.cotTemplate, rules: policy.rules };
        const minePool = await dpoMinePool(ctx, cfg, train, policy.cotTemplate.kind as 'ee' | 'ra', cot.rationales, teacher);
        const prefs = await timed('dpo/mine', () => mineHFPreferences(ctx, policy.model, minePool, ask, cfg.dpo.mine));
        // Without the model's end token, as the built-in datasets leave out <eos>: a trainer adds its own.
        const eos = eosId(policy.model);
        const text = (ids: number[]) => tok.decode(ids.filter((t) => t !== eos));
        datasets.dpo = prefs.map((q) => ({ pair_id: q.pair_id, prompt: text(q.prompt), chosen: text(q.chosen), rejected: text(q.rejected), gold: q.gold, rejected_label: q.rejected_label }));
        if (prefs.length === 0) {
          log(`dpo: no preference pairs mined from ${minePool.length} train pairs; +dpo is ${policy.name} unchanged`);
          training['+dpo'] = { steps: 0, losses: [] };
          await timed('eval/+dpo', () => recordGenerated('+dpo', policy.model, policy.cotTemplate, policy.rules));
          await timed(`eval/+dpo${SCORED_SUFFIX}`, () => recordScored(`+dpo${SCORED_SUFFIX}`, policy.model));
          return;
        }
        const dpo = await timed('dpo', () => dpoTrain(ctx, policy.model.model, padId(policy.model), prefs, { ...cfg.dpo.train, validate: undefined }));
        const rm: HFRelevanceModel = { ...policy.model, model: dpo.model };
        try {
          training['+dpo'] = { steps: dpo.log.length, losses: dpo.log.map((l) => l.loss) };
          log(`+dpo: from ${policy.name} on ${prefs.length} beam-mined preference pairs, loss ${dpo.log[0].loss.toFixed(3)} → ${mean(dpo.log.slice(-5).map((l) => l.loss)).toFixed(3)}, margin ${mean(dpo.log.slice(-5).map((l) => l['rewards/margins'])).toFixed(3)}`);
          await timed('eval/+dpo', () => recordGenerated('+dpo', rm, policy.cotTemplate, policy.rules));
          await timed(`eval/+dpo${SCORED_SUFFIX}`, () => recordScored(`+dpo${SCORED_SUFFIX}`, rm));
          saveHFAdapter(checkpoint('+dpo'), rm);
        } finally {
          dpo.model.dispose();
        }
      } finally {
        disposeCot(cot);
      }
    };

    const sftAll = await timed('sft_all', () => sft('sft_all', train, 10));
    const subsetBase = cfg.train.subsetBase === 'sft_all' ? sftAll : undefined;
    if (!subsetBase) sftAll.model.dispose();
    let selectionRecords: SelectionRecord[] = [];
    try {
      if (cfg.stopAfter === 'sft_all') {
        log('stopAfter sft_all: no selection or DPO in this run');
      } else {
        const teacher = makeTeacher(cfg, data.source);
        const selection = await timed('selection', () => runSelection(ctx, train, cfg.selection, { heldOut: valid, ...(teacher.confusableLabel ? { teacher } : {}) }));
        const budget = selection.selected.length;
        if (budget === 0) throw new UserError('selection kept no pairs (selection.fallback "keep" with a rule that keeps nothing); nothing to fine-tune on');
        const randomRecords = randomSelection(selection.records, budget, cfg.seed);
        await timed('sft_random', () => sft('sft_random', train.filter((_, i) => randomRecords[i].kept), 11, subsetBase).model.dispose());
        const selected = await timed('sft_selected', () => sft('sft_selected', selection.selected, 12, subsetBase));
        selectionRecords = selection.records;
        await cotAndDpo(selection.selected, selected, teacher);
      }
    } finally {
      subsetBase?.model.dispose();
    }

    return finishRun(cfg, opts, start, runId, { selection: selectionRecords, predictions, datasets, metrics, validMetrics, training });
  } finally {
    base.model.dispose();
  }
}

/** LabelJudges whose trained judges also hand out their model (the pipeline keeps and saves some). */
interface LoraJudges extends LabelJudges {
  train(...args: Parameters<LabelJudges['train']>): TrainedLabelJudge & { rm: HFRelevanceModel };
}

/**
 * Label judges as LoRA adapters on `from`'s frozen base: fresh adapters (seeded by the train
 * config's salted seed) or, with `continueAdapters`, a copy of `from`'s own.
 */
export function loraJudges(from: HFRelevanceModel, lora: Omit<LoraConfigInput, 'seed' | 'version'>, continueAdapters = false): LoraJudges {
  return {
    train(pairs, labels, trainConfig, onStep) {
      const model = from.model.clone();
      if (!continueAdapters) model.attachLora({ ...lora, seed: trainConfig.seed });
      const rm: HFRelevanceModel = { ...from, model };
      let optimizer: ReturnType<typeof makeOptimizer> | undefined;
      try {
        optimizer = makeOptimizer(model, trainConfig);
        const r = trainLM(model, hfLabelExamples(rm, pairs, labels), trainConfig, { batch: { padTo: 'longest', padId: padId(rm) }, optimizer, onStep });
        return { rm, losses: r.losses, predict: (ps, batchSize) => predictHF(rm, ps, Math.min(batchSize ?? 16, 16)), dispose: () => model.dispose() };
      } catch (err) {
        model.dispose();
        throw err;
      } finally {
        optimizer?.dispose();
      }
    },
  };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
