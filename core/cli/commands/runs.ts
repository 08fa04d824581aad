import type { Command } from '../command.ts';
import { optBool, optString } from '../args.ts';
import { diffRuns, listRuns, summarise } from '../../runs/catalog.ts';
import { readRun } from '../../runs/store.ts';
import { formatMetricsTable } from '../../eval/format.ts';
import { UserError } from '../../util/errors.ts';

const pct = (x: number) => (100 * x).toFixed(2);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;

export const runsListCommand: Command = {
  name: 'runs list',
  summary: 'List the finished runs of a workspace (its runs/ folder, or the folder itself), newest first',
  usage: 'runs list [--workspace DIR] [--json]',
  examples: ['lref runs list --workspace ~/lref', 'lref runs list --workspace runs --json'],
  options: { workspace: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: { workspace: 'the workspace or runs folder (default: the current folder)', json: 'print one JSON object' },
  async run(args, io) {
    const { folder, runs, broken } = listRuns(optString(args, 'workspace') ?? '.');
    if (optBool(args, 'json')) {
      io.out(JSON.stringify({ folder, runs, broken }));
      return 0;
    }
    if (runs.length === 0) io.out(`${folder}: no finished runs`);
    for (const r of runs) {
      io.out(
        `${r.id}  ${r.created.slice(0, 19)}  seed ${r.seed}  ${r.preset ?? '-'}  ${r.data.source === 'generator' ? 'generator' : r.data.source} (${r.data.pairs} pairs)  ` +
          `${r.variants.length} variants (${r.variants.map((v) => v.name).join(', ')})  ${r.dir}`,
      );
    }
    for (const b of broken) io.err(`lref runs list: skipped ${b.dir}: ${b.error}`);
    return 0;
  },
};

export const runsShowCommand: Command = {
  name: 'runs show',
  summary: 'Show one run: its data, seed, backend, code version, the metrics table and the notes',
  usage: 'runs show RUN [--json]',
  examples: ['lref runs show runs/r1'],
  options: { json: { type: 'boolean' } },
  optionHelp: { json: 'print the summary as one JSON object' },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) throw new UserError('RUN (a run folder) is required');
    if (optBool(args, 'json')) {
      io.out(JSON.stringify(summarise(dir)));
      return 0;
    }
    const run = readRun(dir);
    const r = run.run;
    io.out(`run ${r.id} (${r.created})`);
    io.out(`data ${r.data.source} · scheme ${r.data.scheme} · ${r.data.pairs} pairs · split ${r.data.split.train}/${r.data.split.valid}/${r.data.split.test} · sha256 ${r.data.hash.slice(0, 12)}`);
    io.out(`seed ${r.seed} · backend ${r.backend} · code ${r.code_version} · ${r.timings.total?.toFixed(1) ?? '?'} s`);
    for (const [name, e] of Object.entries(r.external ?? {})) io.out(`external variant ${name}: ${e.kind} from ${e.source}${e.model ? ` (model ${e.model})` : ''}`);
    io.out('');
    io.out(formatMetricsTable(run.metrics.variants));
    if (r.notes.length) io.out(['', 'notes:', ...r.notes.map((n) => `  ${n}`)].join('\n'));
    return 0;
  },
};

export const runsDiffCommand: Command = {
  name: 'runs diff',
  summary: 'Compare two runs: config and run-level differences, and each variant\'s figures (B − A)',
  usage: 'runs diff A B [--json]',
  examples: ['lref runs diff runs/s1 runs/s2'],
  options: { json: { type: 'boolean' } },
  optionHelp: { json: 'print one JSON object' },
  async run(args, io) {
    const [a, b] = args.positionals;
    if (!a || !b) throw new UserError('two run folders A and B are required');
    const d = diffRuns(a, b);
    if (optBool(args, 'json')) {
      io.out(JSON.stringify(d));
      return 0;
    }
    io.out(`A ${d.a.id}\nB ${d.b.id}`);
    if (!d.sameTestPairs) io.out('note: the runs were measured on different test pairs; compare their figures with care');
    const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
    for (const c of [...d.run, ...d.config]) io.out(`  ${c.path}: ${show(c.a)} → ${show(c.b)}`);
    if (d.run.length + d.config.length === 0) io.out('  same config, seed, backend, code and data');
    io.out('');
    io.out('variant        macro-F1 A → B (Δ)          accuracy A → B (Δ)          opt-share A → B (Δ)');
    for (const v of d.variants) {
      if (!v.a || !v.b) {
        io.out(`${v.name.padEnd(14)} only in ${v.a ? 'A' : 'B'}`);
        continue;
      }
      const cell = (k: 'macro_f1' | 'accuracy' | 'optimistic_error_share') => `${pct(v.a![k])} → ${pct(v.b![k])} (${signed(v.delta![k])})`.padEnd(28);
      io.out(`${v.name.padEnd(14)} ${cell('macro_f1')} ${cell('accuracy')} ${cell('optimistic_error_share')}`.trimEnd());
    }
    return 0;
  },
};
