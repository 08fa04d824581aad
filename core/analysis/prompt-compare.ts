import { join } from 'node:path';
import { getScheme } from '../data/labels.ts';
import { splitByQuery } from '../data/split.ts';
import { generateDataset } from '../data/synth/index.ts';
import { computeMetrics } from '../eval/metrics.ts';
import { initBackend } from '../model/backend.ts';
import { ModelConfig, TrainConfig } from '../model/config.ts';
import { predictLabels, trainLabelModel, trainRunTokenizer } from '../stages/relevance-model.ts';
import { parseTemplate, type PromptTemplate } from '../text/prompts.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';

/**
 * Two (or more) label prompt templates on the same pairs, tokenizer, model size, initial weights,
 * batch order and seed: only the template differs. One tiny model per template, scored on the
 * test split, written as a small run folder (run.json, pairs.jsonl, predictions.jsonl,
 * metrics.json) that the decision matrix opens with one column per template. This is the
 * prompt-comparison notebook's recipe as a function, so the app can run it in a kernel.
 */
export interface PromptCompareOptions {
  /** template JSON objects (validated here); their ids name the columns and must differ */
  templates: unknown[];
  /** the folder to write */
  out: string;
  pairs?: number;
  steps?: number;
  seed?: number;
  dModel?: number;
  backend?: string;
  /** called after every training step of every template */
  onStep?: (template: string, step: number, steps: number, loss: number) => void;
}

export interface PromptCompareResult {
  out: string;
  backend: string;
  /** per template: test figures (0–1) */
  metrics: { template: string; macro_f1: number; accuracy: number; optimistic_error_share: number }[];
}

export async function comparePrompts(opts: PromptCompareOptions): Promise<PromptCompareResult> {
  const templates: PromptTemplate[] = opts.templates.map((t, i) => parseTemplate(t, `template ${i + 1}`));
  if (templates.length < 2) throw new UserError('comparePrompts: give at least two templates');
  if (new Set(templates.map((t) => t.id)).size !== templates.length) throw new UserError(`comparePrompts: template ids must differ (${templates.map((t) => t.id).join(', ')}); give the edited one a new id`);
  if (templates.some((t) => t.kind !== 'label')) throw new UserError('comparePrompts: label templates only (kind "label")');
  const seed = opts.seed ?? 1;
  const steps = opts.steps ?? 200;
  const data = generateDataset({ pairs: opts.pairs ?? 1200, seed });
  const scheme = getScheme(data.scheme);
  const split = splitByQuery(data.pairs, { train: 0.8, valid: 0, test: 0.2, seed });
  const tokenizer = trainRunTokenizer(split.train, templates, 384);
  const backend = await initBackend(opts.backend || undefined);
  const modelConfig = ModelConfig.parse({ vocabSize: tokenizer.vocabSize, contextLength: 128, dModel: opts.dModel ?? 64, nHeads: 2, nLayers: 1, dropout: 0, seed });
  const trainConfig = TrainConfig.parse({ steps, lr: 3e-3, batchSize: 16, warmup: Math.min(10, Math.floor(steps / 10)), seed });
  const predictions: string[] = [];
  const metrics: PromptCompareResult['metrics'] = [];
  const gold = split.test.map((p) => p.label);
  for (const t of templates) {
    const { rm } = trainLabelModel(tokenizer, scheme, t, split.train, {
      modelConfig,
      trainConfig,
      hooks: { onStep: (step, loss) => opts.onStep?.(t.id, step + 1, steps, loss) },
    });
    try {
      const preds = predictLabels(rm, split.test);
      preds.forEach((p, i) => predictions.push(JSON.stringify({ pair_id: split.test[i].pair_id, variant: t.id, label: p.label, probs: p.probs })));
      const m = computeMetrics(t.id, gold, preds.map((p) => p.label), scheme);
      metrics.push({ template: t.id, macro_f1: m.macro_f1, accuracy: m.accuracy, optimistic_error_share: m.optimistic_error_share });
    } finally {
      rm.model.dispose();
    }
  }
  const run = {
    kind: 'prompt-comparison',
    created: new Date().toISOString(),
    seed,
    backend,
    data: { source: 'generator', scheme: data.scheme, pairs: data.pairs.length, split: { train: split.train.length, test: split.test.length } },
    config: { steps, dModel: modelConfig.dModel, templates },
    variants: templates.map((t) => t.id),
  };
  writeFileAtomic(join(opts.out, 'pairs.jsonl'), split.test.map((p) => JSON.stringify(p)).join('\n') + '\n');
  writeFileAtomic(join(opts.out, 'predictions.jsonl'), predictions.join('\n') + '\n');
  writeFileAtomic(join(opts.out, 'metrics.json'), JSON.stringify({ kind: 'prompt-comparison', variants: metrics }, null, 2) + '\n');
  // run.json last: a folder with run.json is a finished run
  writeFileAtomic(join(opts.out, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  return { out: opts.out, backend, metrics };
}
