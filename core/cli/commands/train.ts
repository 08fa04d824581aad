import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { optBool, optInt, optString, reqString } from '../args.ts';
import { Progress } from '../progress.ts';
import { FORMATS, loadDataset } from '../../data/load.ts';
import { splitByQuery } from '../../data/split.ts';
import { getScheme } from '../../data/labels.ts';
import { presetFor, presets, type PresetName } from '../../model/presets.ts';
import { TrainConfig } from '../../model/config.ts';
import { initBackend } from '../../model/backend.ts';
import { loadTemplate } from '../../text/prompts.ts';
import { computeMetrics, type MetricsRecord } from '../../eval/metrics.ts';
import { formatMetricsTable } from '../../eval/format.ts';
import { predictLabels, saveRelevanceModel, trainLabelModel, trainRunTokenizer } from '../../stages/relevance-model.ts';
import { majorityLabel } from '../../eval/baseline.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { UserError } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { HF_TRAIN_HELP, HF_TRAIN_OPTIONS, runHFTrain } from './hf-train.ts';

/** The tokenizer learns from at most this many training pairs: enough for merges, bounded time. */
const TOKENIZER_SAMPLE = 20_000;
/**
 * A run tokenizer needs its special tokens and 256 bytes before any merge; the smoke preset's
 * vocabulary (64, for unit tests on raw ids) is too small for text, so text runs use at least this
 * (the pipeline's smoke preset uses the same 384).
 */
const MIN_TEXT_VOCAB = 384;

export const trainCommand: Command = {
  name: 'train',
  summary: 'Fine-tune the decoder LM on labels only (SFT), save a checkpoint and held-out metrics.json',
  usage: 'train --data FILE [--format F] [--preset tiny|small|smoke] [--steps N] [--seed S] [--template T] [--backend B] --out DIR [--json]',
  examples: [
    'lref train --data /tmp/s.jsonl --preset tiny --steps 300 --out /tmp/m',
    'lref train --data ../shared/data/crowdflower/train.csv --format crowdflower --steps 600 --out /tmp/cf',
    'lref train --model models/smollm2-135m --data /tmp/s.jsonl --steps 100 --dpo-steps 20 --out /tmp/lora',
  ],
  options: {
    data: { type: 'string' },
    format: { type: 'string' },
    scheme: { type: 'string' },
    preset: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    template: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    ...HF_TRAIN_OPTIONS,
  },
  optionHelp: {
    data: 'the pairs to train on (split by query: 80% train, 10% valid, 10% test)',
    format: `one of ${FORMATS.join(', ')} (default: detected)`,
    scheme: 'jsonl only: the label scheme (default: inferred from the labels)',
    preset: `model size: ${Object.keys(presets).join(', ')} (default tiny)`,
    steps: 'optimizer steps (default: the preset’s)',
    seed: 'seeds the split, the init and the batch order (default 1)',
    template: 'prompt template id or JSON file (default: label)',
    backend: 'pin a TF.js backend (default: the fastest available; also LREF_BACKEND)',
    out: 'folder for the checkpoint, lref-model.json and metrics.json',
    json: 'no progress bar; print one JSON line at the end',
    ...HF_TRAIN_HELP,
  },
  async run(args, io) {
    // A pretrained model from `lref model import`: LoRA fine-tuning (hf-train.ts).
    if (optString(args, 'model') !== undefined) return runHFTrain(args, io);
    const json = optBool(args, 'json');
    const dataPath = reqString(args, 'data');
    const out = reqString(args, 'out');
    const presetName = (optString(args, 'preset') ?? 'tiny') as PresetName;
    if (!(presetName in presets)) throw new UserError(`--preset must be one of ${Object.keys(presets).join(', ')}, got "${presetName}"`);
    const seed = optInt(args, 'seed', 1, 0, 2 ** 31 - 1);
    const steps = optInt(args, 'steps', presets[presetName].train.steps, 1, 1_000_000);
    const template = loadTemplate(optString(args, 'template') ?? 'label');
    if (template.kind !== 'label') throw new UserError(`--template: lref train does label-only SFT; template "${template.id}" is kind ${template.kind}`);

    const t0 = performance.now();
    const backend = await initBackend(optString(args, 'backend'));
    const ds = await loadDataset(dataPath, { format: optString(args, 'format'), scheme: optString(args, 'scheme') });
    const scheme = getScheme(ds.scheme);
    const split = splitByQuery(ds.pairs, { train: 0.8, valid: 0.1, test: 0.1, seed });
    if (split.train.length === 0 || split.test.length === 0) throw new UserError(`${dataPath}: too few queries to split (${ds.pairs.length} pairs)`);
    if (!json) io.err(`backend ${backend} · ${ds.pairs.length} pairs (${split.train.length} train / ${split.valid.length} valid / ${split.test.length} test) · scheme ${scheme.id} · preset ${presetName}`);

    const tokSample = new Rng(seed).shuffle(split.train).slice(0, TOKENIZER_SAMPLE);
    const preset = presets[presetName];
    const tok = trainRunTokenizer(tokSample, [template], Math.max(preset.model.vocabSize, MIN_TEXT_VOCAB));
    const { model: modelConfig } = presetFor(presetName, tok.vocabSize);
    const trainConfig = TrainConfig.parse({ ...preset.train, steps, seed, warmup: Math.min(preset.train.warmup, Math.floor(steps / 10)) });
    const modelCfg = { ...modelConfig, seed };

    const progress = new Progress(io, steps, 'train', json);
    let lastTps = 0;
    const tTrain = performance.now();
    const { rm, losses, optimizer } = trainLabelModel(tok, scheme, template, split.train, {
      modelConfig: modelCfg,
      trainConfig,
      hooks: {
        onStep: (step, loss, tps) => {
          lastTps = tps;
          progress.update(step + 1, { loss: loss.toFixed(3), 'tok/s': tps.toFixed(0) });
        },
      },
    });
    progress.done();
    const trainSeconds = (performance.now() - tTrain) / 1000;

    const preds = predictLabels(rm, split.test);
    const gold = split.test.map((p) => p.label);
    const majority = majorityLabel(split.train.map((p) => p.label), scheme);
    const records: MetricsRecord[] = [
      computeMetrics('sft', gold, preds.map((p) => p.label), scheme),
      computeMetrics('majority', gold, gold.map(() => majority), scheme),
    ];
    // valid as well as test: anything chosen by looking at results (steps, preset) is chosen on valid
    const validRecords: MetricsRecord[] =
      split.valid.length > 0
        ? [
            computeMetrics('sft', split.valid.map((p) => p.label), predictLabels(rm, split.valid).map((p) => p.label), scheme),
            computeMetrics('majority', split.valid.map((p) => p.label), split.valid.map(() => majority), scheme),
          ]
        : [];
    const head = losses.slice(0, 10);
    const tail = losses.slice(-10);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const summary = {
      version: 1,
      command: 'train',
      backend,
      data: { path: dataPath, format: ds.source, scheme: scheme.id, sha256: fileHash(dataPath), pairs: ds.pairs.length },
      split: { train: split.train.length, valid: split.valid.length, test: split.test.length, seed },
      preset: presetName,
      model: rm.model.config,
      train: trainConfig,
      loss: { first10: mean(head), last10: mean(tail), trace: losses },
      timings: { total_s: (performance.now() - t0) / 1000, train_s: trainSeconds, tokens_per_s_last: lastTps },
      variants: records,
      valid_variants: validRecords,
    };
    saveRelevanceModel(out, rm, { step: steps, optimizer, trainConfig, backend, provenance: { data: dataPath, seed, preset: presetName } });
    writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(summary, null, 1) + '\n');
    rm.model.dispose();
    optimizer.dispose();

    const line = {
      out,
      backend,
      steps,
      loss_first10: +mean(head).toFixed(4),
      loss_last10: +mean(tail).toFixed(4),
      macro_f1: +records[0].macro_f1.toFixed(4),
      accuracy: +records[0].accuracy.toFixed(4),
      majority_accuracy: +records[1].accuracy.toFixed(4),
      ...(validRecords.length > 0 ? { valid_macro_f1: +validRecords[0].macro_f1.toFixed(4), valid_accuracy: +validRecords[0].accuracy.toFixed(4) } : {}),
      train_s: +trainSeconds.toFixed(1),
    };
    if (json) io.out(JSON.stringify(line));
    else {
      io.out(`loss ${line.loss_first10} → ${line.loss_last10} over ${steps} steps (${trainSeconds.toFixed(0)}s on ${backend})`);
      if (validRecords.length > 0) {
        io.out(`valid split (${split.valid.length} pairs): choose on these`);
        io.out(formatMetricsTable(validRecords));
      }
      io.out(`test split (${split.test.length} pairs): report these`);
      io.out(formatMetricsTable(records));
      io.out(`saved ${out}`);
    }
    return 0;
  },
};

function fileHash(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined; // a folder (WANDS): provenance names the path instead
  }
}
