import type { Command } from '../command.ts';
import { optBool, optFloat, optInt, reqString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { AtomicLineWriter } from '../../util/atomic.ts';
import { PairRecord } from '../../data/schema.ts';
import { generateDataset } from '../../data/synth/generate.ts';
import { LREF5_LABELS } from '../../data/synth/types.ts';

/** `lref data synth`: writes the built-in synthetic data set as canonical JSONL (one PairRecord a line). */
export const dataSynthCommand: Command = {
  name: 'data synth',
  summary: 'Generate a labelled synthetic e-commerce relevance data set (LREF-5 labels from GRADING-RULES.md)',
  usage: 'data synth --out FILE [--pairs N] [--seed S] [--noise R] [--json]',
  examples: [
    'lref data synth --out data/synth.jsonl',
    'lref data synth --out /tmp/synth.jsonl --pairs 20000 --seed 7 --noise 0.05 --json',
  ],
  options: {
    out: { type: 'string', short: 'o' },
    pairs: { type: 'string' },
    seed: { type: 'string' },
    noise: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    out: 'the JSONL file to write (replaced atomically)',
    pairs: 'number of query–product pairs (default 5000)',
    seed: 'random seed; the same seed writes the same file (default 1)',
    noise: 'share of labels swapped for a neighbouring grade, 0–1 (default 0.1)',
    json: 'print the summary as one JSON object',
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UserError(`unexpected argument "${args.positionals[0]}"; see lref data synth --help`);
    const out = reqString(args, 'out');
    const pairs = optInt(args, 'pairs', 5000, 1, 5_000_000);
    const seed = optInt(args, 'seed', 1, 0, 0xffffffff);
    const noise = optFloat(args, 'noise', 0.1, 0, 1);
    const started = performance.now();
    const data = generateDataset({ pairs, seed, noise });
    const writer = new AtomicLineWriter(out);
    try {
      for (const rec of data.pairs) writer.writeLine(JSON.stringify(PairRecord.parse(rec)));
      writer.commit();
    } catch (e) {
      writer.abort();
      throw e;
    }
    const count = (labels: readonly string[]) => Object.fromEntries(LREF5_LABELS.map((l) => [l, labels.filter((x) => x === l).length]));
    const labels = count(data.pairs.map((p) => p.label));
    const clean = count(data.cleanLabels);
    const changed = data.pairs.filter((p, i) => p.label !== data.cleanLabels[i]).length;
    const summary = {
      out,
      pairs: data.pairs.length,
      queries: data.queries.length,
      products: new Set(data.pairs.map((p) => p.product_id)).size,
      seed,
      noise,
      noisy_labels: changed,
      labels,
      clean_labels: clean,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    if (optBool(args, 'json')) {
      io.out(JSON.stringify(summary));
      return 0;
    }
    const pct = (n: number) => `${((100 * n) / data.pairs.length).toFixed(1)}%`;
    io.out(`wrote ${summary.pairs} pairs (${summary.queries} queries, ${summary.products} products) to ${out} in ${summary.seconds}s`);
    io.out(`label mix: ${LREF5_LABELS.map((l) => `${l} ${labels[l]} (${pct(labels[l])})`).join(', ')}`);
    io.out(`noise ${noise}: ${changed} labels moved to a neighbouring grade (${pct(changed)})`);
    return 0;
  },
};
