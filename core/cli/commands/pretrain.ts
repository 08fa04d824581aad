import type { Command } from '../command.ts';
import { optBool, optInt, optString, reqString } from '../args.ts';
import { Progress } from '../progress.ts';
import { FORMATS, loadDataset } from '../../data/load.ts';
import { initBackend } from '../../model/backend.ts';
import { GENERATOR_SEED_OFFSET, generatorText, runPretrain } from '../../stages/pretrain.ts';
import { UserError } from '../../util/errors.ts';

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Train the decoder as a causal LM on unlabelled query and product text; pipeline runs start from it (config "pretrained")',
  usage: 'pretrain [--data FILE [--data FILE …] [--format F] | --pairs N] [--preset tiny|small|smoke] [--vocab N] [--steps N] [--max-texts N] [--seed S] [--backend B] --out DIR [--json]',
  examples: [
    'lref pretrain --pairs 20000 --steps 2000 --out runs/pre-synth',
    'lref pretrain --data ../shared/data/homedepot/train.csv --format homedepot --vocab 1024 --out runs/pre-hd',
    'lref pretrain --data ../shared/data/homedepot/train.csv --data ../shared/data/crowdflower/train.csv --vocab 1024 --out runs/pre-both',
  ],
  options: {
    data: { type: 'string', multiple: true },
    format: { type: 'string' },
    pairs: { type: 'string' },
    preset: { type: 'string' },
    vocab: { type: 'string' },
    steps: { type: 'string' },
    'max-texts': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    data: 'a data file whose query and product text is the corpus (its labels are never read); repeat it to pretrain on several files; default the built-in generator',
    format: `with --data: one of ${FORMATS.join(', ')}, for every file (default: detected per file)`,
    pairs: `without --data: generated pairs of text (default 20000; drawn with seed + ${GENERATOR_SEED_OFFSET}, never a run's own pairs)`,
    preset: 'model size: tiny (default), small or smoke',
    vocab: 'tokenizer vocabulary (default 512)',
    steps: 'optimizer steps (default 2000)',
    'max-texts': 'at most this many distinct texts, a seeded sample (default 50000)',
    seed: 'seeds the sample, the tokenizer, the init and the batches (default 1)',
    backend: 'pin a TF.js backend (default: the fastest available; also LREF_BACKEND)',
    out: 'the folder: checkpoint, tokenizer and lref-pretrain.json',
    json: 'no progress bar; print one JSON line at the end',
  },
  async run(args, io) {
    const json = optBool(args, 'json');
    const out = reqString(args, 'out');
    const dataFiles = args.values.data as string[] | undefined; // repeatable: undefined or non-empty
    const format = optString(args, 'format');
    if (format !== undefined && dataFiles === undefined) throw new UserError('--format applies to --data; the generator needs none');
    if (dataFiles !== undefined && args.values.pairs !== undefined) throw new UserError('--pairs applies to the generator; with --data the file is the corpus');
    const preset = optString(args, 'preset') ?? 'tiny';
    if (!['tiny', 'small', 'smoke'].includes(preset)) throw new UserError(`--preset must be one of tiny, small, smoke, got "${preset}"`);
    const seed = optInt(args, 'seed', 1, 0, 2 ** 31 - 1);
    const cfg = {
      preset: preset as 'tiny' | 'small' | 'smoke',
      vocabSize: optInt(args, 'vocab', 512, 300, 1 << 16),
      steps: optInt(args, 'steps', 2000, 1, 10_000_000),
      maxTexts: optInt(args, 'max-texts', 50_000, 1, 10_000_000),
      seed,
    };
    const backend = await initBackend(optString(args, 'backend'));
    let pairs;
    let source: string;
    if (dataFiles !== undefined) {
      const sets = [];
      for (const path of dataFiles) sets.push(await loadDataset(path, { format }));
      pairs = sets.flatMap((ds) => ds.pairs);
      source = sets.map((ds) => ds.source).join(' + ');
    } else {
      const n = optInt(args, 'pairs', 20_000, 1, 10_000_000);
      ({ pairs, source } = generatorText(n, seed));
    }
    const bar = new Progress(io, cfg.steps, 'pretrain', json);
    const { card } = runPretrain(pairs, cfg, {
      outDir: out,
      backend,
      source,
      progress: (done, _total, loss) => bar.update(done, { loss: loss.toFixed(3) }),
      log: (line) => {
        if (!json) io.err(line);
      },
    });
    bar.done();
    if (json) io.out(JSON.stringify({ out, backend, texts: card.texts, steps: cfg.steps, loss_first10: +card.loss.first10.toFixed(4), loss_last10: +card.loss.last10.toFixed(4) }));
    else io.out(`pretrained ${out}: loss ${card.loss.first10.toFixed(3)} → ${card.loss.last10.toFixed(3)} on ${card.texts} texts`);
    return 0;
  },
};
