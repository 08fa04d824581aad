import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PairRecord } from '../data/schema.ts';
import { sample } from '../data/split.ts';
import { computeMetrics, type MetricsRecord } from '../eval/metrics.ts';
import { TrainConfig } from '../model/config.ts';
import type { LoraConfigInput } from '../model/hf/base.ts';
import { presetFor } from '../model/presets.ts';
import { makeOptimizer, trainLM } from '../train/loop.ts';
import { RUN_FILES, type PredictionRecord, type TrainingTrace } from '../runs/schema.ts';
import { codeVersion, newRunId, writeRun } from '../runs/store.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { predictLexical, trainLexical } from './baselines/lexical.ts';
import { trainConfigFor, type JudgeContext, type LabelJudges, type TrainedLabelJudge } from './context.ts';
import { dpoHF, gradeTokenIds, hfLabelExamples, loadHFJudge, padId, predictHF, saveHFAdapter, type HFRelevanceModel } from './hf-relevance.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import type { PipelineOptions, PipelineResult } from './pipeline.ts';
import { makeTeacher, startRun } from './pipeline.ts';
import { runSelection } from './select.ts';
import { randomSelection, type SelectionRecord } from './select-rule.ts';

/**
 * `lref pipeline` on an imported Hugging Face model (config `hf`, CLI `--model`): the same run
 * folder as the built-in pipeline, every decoder variant LoRA adapters on one frozen base.
 *
 *   data → split → lexical → zero_shot (the base as is) → sft_all → selection (IM/CI/MS, each
 *   fresh adapters on the same base, through StageContext.labelJudges) → sft_random → sft_selected
 *   → +dpo (label-level, from sft_selected) → run folder
 *
 * Not here (said in the run's notes): the cross-encoder baseline (it trains its own encoder on a run
 * tokenizer an imported run does not build) and Multi-CoT (needs generation on the imported model).
 * DPO's preferences are label-level — gold grade chosen, the policy's most probable wrong grade
 * rejected — because the beam-mined CoT preferences of the built-in path need a CoT policy.
 * Checkpoints are PEFT adapter folders (checkpoints/<variant>/adapter_config.json): `lref model
 * export RUN/checkpoints/V --out DIR` merges one, `lref serve --model DIR` serves it.
 */
export async function runHFPipeline(cfg: PipelineConfig, opts: PipelineOptions): Promise<PipelineResult> {
  const hf = cfg.hf;
  if (!hf) throw new Error('runHFPipeline: config has no hf');
  const { dir, created, notes, log, timings, t0, timed, data, scheme, split } = await startRun(cfg, opts);
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
    if (cfg.train.earlyStop) log('train.earlyStop: not applied to adapters on an imported model; every variant trains its full steps');
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
    const checkpoint = (variant: string) => join(dir, RUN_FILES.checkpoints, variant);
    const short = (m: MetricsRecord) => `macro-F1 ${(100 * m.macro_f1).toFixed(2)}, accuracy ${(100 * m.accuracy).toFixed(2)}`;
    const record = (variant: string, labels: string[], validLabels: string[]) => {
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
    const recordScored = (variant: string, rm: HFRelevanceModel) => {
      const preds = predictHF(rm, test, evalBatch);
      preds.forEach((p, i) => predictions.push({ pair_id: test[i].pair_id, variant, label: p.label, probs: p.probs }));
      record(variant, preds.map((p) => p.label), predictHF(rm, valid, evalBatch).map((p) => p.label));
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
        recordScored(variant, judge.rm);
        saveHFAdapter(checkpoint(variant), judge.rm);
      } catch (err) {
        judge.dispose();
        throw err;
      }
      return judge.rm;
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
        log('cot: Multi-CoT (+ee, +ra, +dr) is not run on an imported model yet (the imported models decode through the batched generation API, but the CoT stages are written against the run tokenizer and its prompt templates)');

        // Label-level DPO from sft_selected: gold grade chosen, the policy's likeliest wrong grade rejected.
        try {
          const pool = sample(train, Math.min(cfg.dpo.minePairs, train.length), new Rng(cfg.seed).fork('dpo/mine'));
          const d = cfg.dpo.train;
          const batchSize = Math.min(d.batchSize, pool.length);
          const steps = Math.max(1, Math.floor((d.epochs * pool.length) / batchSize));
          const dpo = await timed('dpo', () => dpoHF(selected, pool, { steps, beta: d.beta, lr: d.lr ?? (hf.lr ?? cfg.train.lr) / 10, batchSize }));
          try {
            training['+dpo'] = { steps: dpo.losses.length, losses: dpo.losses };
            log(`+dpo: ${steps} steps on ${pool.length} label-level preference pairs from sft_selected (β ${d.beta}), loss ${dpo.losses[0].toFixed(3)} → ${mean(dpo.losses.slice(-5)).toFixed(3)}, margin ${mean(dpo.margins.slice(-5)).toFixed(3)}`);
            await timed('eval/+dpo', () => recordScored('+dpo', dpo.model));
            saveHFAdapter(checkpoint('+dpo'), dpo.model);
          } finally {
            dpo.model.model.dispose();
          }
        } finally {
          selected.model.dispose();
        }
      }
    } finally {
      subsetBase?.model.dispose();
    }

    timings.total = (performance.now() - t0) / 1000;
    const common = { config: cfg, seed: cfg.seed, backend: opts.backend, timings };
    writeRun(dir, {
      pairs: test,
      selection: selectionRecords,
      predictions,
      datasets: { sft: [], cot: [], dpo: [] },
      metrics: { version: 1, run_id: runId, data_hash: data.hash, ...common, variants: metrics, ...(validMetrics.length > 0 ? { valid_variants: validMetrics } : {}) },
      run: {
        version: 1,
        id: runId,
        created: created.toISOString(),
        ...common,
        data: { source: data.source, scheme: scheme.id, hash: data.hash, pairs: data.pairs.length, split: { train: train.length, valid: valid.length, test: test.length } },
        code_version: codeVersion(),
        variants: metrics.map((m) => m.name),
        training,
        notes,
      },
    });
    return { dir, runId, metrics, validMetrics, timings, training };
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
