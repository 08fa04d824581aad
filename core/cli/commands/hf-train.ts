import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIO, ParsedArgs } from '../command.ts';
import { optBool, optInt, optString, reqString } from '../args.ts';
import { loadDataset } from '../../data/load.ts';
import { splitByQuery } from '../../data/split.ts';
import { getScheme } from '../../data/labels.ts';
import { initBackend } from '../../model/backend.ts';
import { computeMetrics, type MetricsRecord } from '../../eval/metrics.ts';
import { formatMetricsTable } from '../../eval/format.ts';
import { dpoHF, loadHFJudge, saveHFAdapter, trainHFLabels, type HFRelevanceModel } from '../../stages/hf-relevance.ts';
import { decideHFVariant } from '../../stages/hf-pipeline.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { DECISION_MODES, type DecisionMode } from '../../eval/decision.ts';
import type { PairRecord } from '../../data/schema.ts';
import { UserError } from '../../util/errors.ts';

/** The LoRA flags `lref train --model` adds. */
export const HF_TRAIN_OPTIONS = {
  model: { type: 'string' },
  'lora-rank': { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-dropout': { type: 'string' },
  'lora-targets': { type: 'string' },
  'dpo-steps': { type: 'string' },
  lr: { type: 'string' },
  'batch-size': { type: 'string' },
  context: { type: 'string' },
  decision: { type: 'string' },
} as const;

export const HF_TRAIN_HELP = {
  model: 'an imported model folder (`lref model import`) or a Hugging Face folder: LoRA SFT on it instead of a model from scratch',
  'lora-rank': '--model: adapter rank (default 8)',
  'lora-alpha': '--model: adapter scale numerator, update × alpha/rank (default 16)',
  'lora-dropout': '--model: dropout on the adapters’ input while training (default 0.05)',
  'lora-targets': '--model: comma-separated module names (default: every attention and MLP projection)',
  'dpo-steps': '--model: DPO steps on the train split after SFT (default 0)',
  lr: '--model: peak learning rate (default 2e-4)',
  'batch-size': '--model: sequences per step (default 8)',
  context: '--model: positions the prompts may use (default 256)',
  decision: `--model: how probabilities become grades: ${DECISION_MODES.join(' | ')} (default valid-macro-f1, fitted on valid and saved with the adapters)`,
};

/**
 * `lref train --model DIR`: LoRA SFT (then optional DPO) of an imported pretrained model on the
 * train split; zero-shot, SFT and DPO scored on valid and test; adapters + metrics.json to --out.
 */
export async function runHFTrain(args: ParsedArgs, io: CliIO): Promise<number> {
  const json = optBool(args, 'json');
  const modelDir = reqString(args, 'model');
  const dataPath = reqString(args, 'data');
  const out = reqString(args, 'out');
  if (existsSync(join(out, 'adapter_config.json'))) throw new UserError(`${out}: already holds adapters (choose a new --out)`);
  const seed = optInt(args, 'seed', 1, 0, 2 ** 31 - 1);
  const steps = optInt(args, 'steps', 200, 1, 1_000_000);
  const dpoSteps = optInt(args, 'dpo-steps', 0, 0, 1_000_000);
  const num = (k: string, d: number) => {
    const v = optString(args, k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UserError(`--${k}: expected a number, got "${v}"`);
    return n;
  };
  const mode = optString(args, 'decision') ?? 'valid-macro-f1';
  if (!(DECISION_MODES as readonly string[]).includes(mode)) throw new UserError(`--decision: expected ${DECISION_MODES.join(' or ')}, got "${mode}"`);
  const targets = optString(args, 'lora-targets')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const backend = await initBackend(optString(args, 'backend'));
  const ds = await loadDataset(dataPath, { format: optString(args, 'format'), scheme: optString(args, 'scheme') });
  const scheme = getScheme(ds.scheme);
  const split = splitByQuery(ds.pairs, { train: 0.8, valid: 0.1, test: 0.1, seed });
  if (split.train.length === 0 || split.test.length === 0) throw new UserError(`${dataPath}: too few queries to split (${ds.pairs.length} pairs)`);
  const rm = loadHFJudge(modelDir, scheme, {
    contextLength: optInt(args, 'context', 256, 8, 1 << 16),
    lora: { rank: num('lora-rank', 8), alpha: num('lora-alpha', 16), dropout: num('lora-dropout', 0.05), targets, seed },
  });
  const log = (s: string) => (json ? undefined : io.err(s));
  log(`backend ${backend} · ${rm.model.spec.modelType} ${(rm.model.numParams() / 1e6).toFixed(1)}M frozen + ${(rm.model.numTrainable() / 1e6).toFixed(2)}M LoRA · ${split.train.length} train pairs · scheme ${scheme.id}`);
  const test: MetricsRecord[] = [];
  const valid: MetricsRecord[] = [];
  // Each variant decides its grades as the pipeline does; the rule comes back so the saved adapters keep it.
  const score = (name: string, m: HFRelevanceModel) => {
    const d = decideHFVariant(name, m, { scheme, valid: split.valid, test: split.test, mode: mode as DecisionMode, log });
    const record = (pairs: readonly PairRecord[], labels: string[]) => computeMetrics(name, pairs.map((p) => p.label), labels, scheme);
    test.push(record(split.test, d.testLabels));
    if (split.valid.length) valid.push(record(split.valid, d.validLabels));
    return d.decision;
  };
  score('zero_shot', rm);
  const t0 = performance.now();
  const batchSize = optInt(args, 'batch-size', 8, 1, 4096);
  const sft = trainHFLabels(rm, split.train, { steps, seed, lr: num('lr', 2e-4), batchSize });
  const sftSeconds = (performance.now() - t0) / 1000;
  rm.decision = score('sft_lora', rm);
  let final = rm;
  let dpo: ReturnType<typeof dpoHF> | undefined;
  if (dpoSteps > 0) {
    dpo = dpoHF(rm, split.train, { steps: dpoSteps, lr: num('lr', 2e-4) / 2, batchSize });
    final = dpo.model;
    final.decision = score('dpo_lora', final);
  }
  saveHFAdapter(out, final);
  const summary = {
    version: 1, command: 'train --model', backend, base: modelDir, lora: final.model.loraConfig(), steps, dpo_steps: dpoSteps,
    data: { path: dataPath, scheme: scheme.id, pairs: ds.pairs.length }, split: { train: split.train.length, valid: split.valid.length, test: split.test.length, seed },
    decision: final.decision ?? null,
    loss: { sft: sft.losses, dpo: dpo?.losses ?? [] }, timings: { sft_s: sftSeconds }, variants: test, valid_variants: valid,
  };
  writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(summary, null, 1) + '\n');
  if (final !== rm) final.model.dispose();
  rm.model.dispose();
  if (json) io.out(JSON.stringify({ out, backend, steps, dpo_steps: dpoSteps, test: test.map((r) => ({ name: r.name, macro_f1: r.macro_f1, accuracy: r.accuracy })), sft_s: sftSeconds }));
  else {
    if (valid.length) io.out(`valid split (${split.valid.length} pairs): choose on these\n${formatMetricsTable(valid)}`);
    io.out(`test split (${split.test.length} pairs): report these\n${formatMetricsTable(test)}`);
    io.out(`saved adapters to ${out} (merge and export with \`lref model export ${out} --out DIR\`)`);
  }
  return 0;
}
