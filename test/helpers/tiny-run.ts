import { join } from 'node:path';
import { LREF5 } from '../../core/data/labels.ts';
import type { PairRecord } from '../../core/data/schema.ts';
import { splitByQuery } from '../../core/data/split.ts';
import { generateDataset } from '../../core/data/synth/generate.ts';
import { computeMetrics } from '../../core/eval/metrics.ts';
import { initBackend } from '../../core/model/backend.ts';
import { ModelConfig, TrainConfig } from '../../core/model/config.ts';
import { RUN_FILES } from '../../core/runs/schema.ts';
import { codeVersion, dataHash, newRunId, writeRun } from '../../core/runs/store.ts';
import { loadPipelineConfig } from '../../core/stages/pipeline-config.ts';
import { predictLabels, saveRelevanceModel, trainLabelModel, trainRunTokenizer } from '../../core/stages/relevance-model.ts';
import { cotDataset, labelDataset } from '../../core/stages/stage-datasets.ts';
import { renderCompletion, renderPrompt } from '../../core/text/prompts.ts';
import { loadTemplate } from '../../core/text/prompts.ts';

/**
 * A small finished run folder built directly (no pipeline): 240 generated pairs, one label-SFT
 * variant "sft_all" trained for `steps` steps with its checkpoint, a "lexical"-like variant with no
 * checkpoint (predictions only), and the SFT dataset — a second or two instead of a pipeline run.
 */
export async function writeTinyRun(dir: string, opts: { steps?: number; seed?: number } = {}): Promise<{ dir: string; runId: string; testPairs: number }> {
  await initBackend(); // the fastest available (the cpu fallback makes this take seconds)
  const seed = opts.seed ?? 3;
  const pairs = generateDataset({ pairs: 240, seed }).pairs;
  const split = splitByQuery(pairs, { train: 0.8, valid: 0.1, test: 0.1, seed });
  const template = loadTemplate('label');
  const tok = trainRunTokenizer(split.train, [template], 384);
  const modelConfig = ModelConfig.parse({ vocabSize: tok.vocabSize, contextLength: 128, dModel: 32, nHeads: 2, nLayers: 1, dropout: 0, seed });
  const trainConfig = TrainConfig.parse({ batchSize: 8, steps: opts.steps ?? 20, warmup: 2, lr: 3e-3, seed });
  const { rm, losses, optimizer } = trainLabelModel(tok, LREF5, template, split.train, { modelConfig, trainConfig });
  const test = split.test;
  const gold = test.map((p) => p.label);
  const preds = predictLabels(rm, test);
  const created = new Date('2026-01-02T03:04:05.000Z');
  const runId = newRunId(created, seed, dir);
  saveRelevanceModel(join(dir, RUN_FILES.checkpoints, 'sft_all'), rm, { step: losses.length, optimizer, trainConfig, backend: 'test' });
  rm.model.dispose();
  optimizer.dispose();
  const constant = test.map(() => 'Exact');
  const metrics = [computeMetrics('always_exact', gold, constant, LREF5), computeMetrics('sft_all', gold, preds.map((p) => p.label), LREF5)];
  const config = loadPipelineConfig({ preset: 'smoke', overrides: { seed } });
  const hash = dataHash(pairs);
  const timings = { total: 1 };
  writeRun(dir, {
    pairs: test,
    selection: split.train.map((p) => ({ pair_id: p.pair_id, gold: p.label, kept: true, reason: 'all: no selection' as const })),
    predictions: [
      ...test.map((p) => ({ pair_id: p.pair_id, variant: 'always_exact', label: 'Exact' })),
      ...test.map((p, i) => ({ pair_id: p.pair_id, variant: 'sft_all', label: preds[i].label, probs: preds[i].probs })),
    ],
    datasets: tinyDatasets(split.train),
    metrics: { version: 1, run_id: runId, config, seed, backend: 'test', data_hash: hash, timings, variants: metrics },
    run: {
      version: 1,
      id: runId,
      created: created.toISOString(),
      config,
      seed,
      backend: 'test',
      data: { source: 'generator', scheme: 'lref5', hash, pairs: pairs.length, split: { train: split.train.length, valid: split.valid.length, test: test.length } },
      code_version: codeVersion(),
      timings,
      variants: ['always_exact', 'sft_all'],
      training: { sft_all: { steps: losses.length, losses } },
      notes: [],
    },
  });
  return { dir, runId, testPairs: test.length };
}

/** The stage datasets of the tiny run: label SFT on the train split, and made-up EE/DR rationales and preferences for a few pairs. */
function tinyDatasets(train: readonly PairRecord[]) {
  const label = loadTemplate('label');
  const templates = { ee: loadTemplate('ee'), ra: loadTemplate('ra'), dr: loadTemplate('dr') };
  const few = train.slice(0, 6);
  const cot = cotDataset(templates, few, {
    ee: few.map((p) => ({ pair_id: p.pair_id, kind: 'ee' as const, rationale: `same type; so ${p.label}.` })),
    dr: few.map((p) => ({ pair_id: p.pair_id, kind: 'dr' as const, rationale: 'the brand is met, so not Irrelevant.', wrong: p.label === 'Irrelevant' ? 'Exact' : 'Irrelevant' })),
  }, LREF5);
  const dpo = few.slice(0, 3).map((p) => ({
    pair_id: p.pair_id,
    prompt: renderPrompt(templates.ee, p),
    chosen: renderCompletion(templates.ee, p.label, 'matches the query.'),
    rejected: renderCompletion(templates.ee, 'Exact', 'looks fine.'),
    gold: p.label,
    rejected_label: 'Exact',
  }));
  return { sft: labelDataset(label, train), cot, dpo };
}
