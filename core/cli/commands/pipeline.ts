import { join } from 'node:path';
import type { CliIO, Command, ParsedArgs } from '../command.ts';
import { optBool, optInt, optString } from '../args.ts';
import { formatSeconds, Progress } from '../progress.ts';
import { FORMATS } from '../../data/load.ts';
import { formatMetricsTable } from '../../eval/format.ts';
import { initBackend } from '../../model/backend.ts';
import { loadPipelineConfig, PIPELINE_PRESETS, type PipelinePresetName } from '../../stages/pipeline-config.ts';
import { runPipeline } from '../../stages/pipeline.ts';
import { UserError } from '../../util/errors.ts';

/** The options that say what a pipeline runs on and how it reports, shared by `lref pipeline` and `lref study`. */
export const PIPELINE_INPUT_OPTIONS = {
  config: { type: 'string' },
  data: { type: 'string' },
  format: { type: 'string' },
  preset: { type: 'string' },
  backend: { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const PIPELINE_INPUT_HELP = {
  config: 'a JSON pipeline config (version 1); its fields override the preset’s',
  data: 'pairs to use instead of the built-in generator',
  format: `with --data: one of ${FORMATS.join(', ')} (default: detected)`,
  preset: `${PIPELINE_PRESETS.join(' | ')}: smoke finishes in minutes on 2 cores; default is the real experiment (default: the config’s, else default)`,
  backend: 'pin a TF.js backend (default: the fastest available; also LREF_BACKEND)',
  model: 'an imported Hugging Face model (lref model import): every decoder variant is LoRA adapters on it (config field hf.dir)',
  json: 'no progress or log lines; print one JSON line at the end',
};

/** --preset, --data and --format checked and turned into a preset name and config overrides. */
export function pipelineInputs(args: ParsedArgs): { preset: PipelinePresetName | undefined; overrides: Record<string, unknown> } {
  const preset = optString(args, 'preset');
  if (preset !== undefined && !(PIPELINE_PRESETS as readonly string[]).includes(preset)) {
    throw new UserError(`--preset must be one of ${PIPELINE_PRESETS.join(', ')}, got "${preset}"`);
  }
  const format = optString(args, 'format');
  const dataPath = optString(args, 'data');
  if (format !== undefined && dataPath === undefined) throw new UserError('--format applies to --data; the generator needs none');
  const overrides: Record<string, unknown> = {};
  if (dataPath !== undefined) overrides.data = { source: 'file', path: dataPath, ...(format ? { format } : {}) };
  const model = optString(args, 'model');
  if (model !== undefined) overrides.hf = { dir: model };
  return { preset: preset as PipelinePresetName | undefined, overrides };
}

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'Run every LREF stage and the baselines on one split; write a run folder and print the comparison table',
  usage:
    'pipeline [--config FILE] [--data FILE [--format F]] [--preset smoke|default] [--model MODEL_DIR] [--seed S] [--backend B] [--out DIR] [--json]',
  examples: [
    'lref pipeline --preset smoke --out /tmp/run-smoke',
    'lref pipeline --config my-run.json --seed 3',
    'lref pipeline --data ../shared/data/crowdflower/train.csv --format crowdflower --out runs/cf',
    'lref pipeline --preset smoke --model models/smollm2-135m --out runs/smol',
  ],
  options: { ...PIPELINE_INPUT_OPTIONS, seed: { type: 'string' }, out: { type: 'string' } },
  optionHelp: {
    ...PIPELINE_INPUT_HELP,
    seed: 'seeds data generation, the split, every init and sample (default: the config’s)',
    out: 'the run folder (default runs/<run-id-time>)',
  },
  async run(args, io) {
    const json = optBool(args, 'json');
    const { preset, overrides } = pipelineInputs(args);
    if (args.values.seed !== undefined) overrides.seed = optInt(args, 'seed', 0, 0, 2 ** 31 - 1);
    const cfg = loadPipelineConfig({ preset, file: optString(args, 'config'), overrides });

    const backend = await initBackend(optString(args, 'backend'));
    const started = new Date();
    const out = optString(args, 'out') ?? join('runs', `${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-s${cfg.seed}`);
    if (!json) io.err(`lref pipeline: preset ${cfg.preset} · seed ${cfg.seed} · backend ${backend} · out ${out}`);

    const bars = new StageBars(io, json);
    const result = await runPipeline(cfg, {
      outDir: out,
      backend,
      now: started,
      progress: (stage, done, total, fields) => bars.update(stage, done, total, fields),
      log: (line) => {
        bars.close();
        if (!json) io.err(line);
      },
    });
    bars.close();

    if (json) {
      const short = (x: number) => +x.toFixed(4);
      io.out(
        JSON.stringify({
          out: result.dir,
          run_id: result.runId,
          backend,
          seconds: +result.timings.total.toFixed(1),
          split: 'test',
          variants: Object.fromEntries(result.metrics.map((m) => [m.name, { macro_f1: short(m.macro_f1), accuracy: short(m.accuracy), unparseable: m.unparseable }])),
          valid: Object.fromEntries(result.validMetrics.map((m) => [m.name, { macro_f1: short(m.macro_f1), accuracy: short(m.accuracy), unparseable: m.unparseable }])),
        }),
      );
    } else {
      if (result.validMetrics.length > 0) {
        io.out(`valid split (${result.validMetrics[0].n} pairs): choose steps, rates and switches on these`);
        io.out(formatMetricsTable(result.validMetrics));
        io.out('');
      }
      io.out(`test split (${result.metrics[0].n} pairs): report these, never tune on them`);
      io.out(formatMetricsTable(result.metrics));
      io.out('');
      for (const line of formatTimings(result.timings)) io.out(line);
      io.out(`run ${result.runId} in ${formatSeconds(result.timings.total)} on ${backend}: ${result.dir}`);
    }
    return 0;
  },
};

/** Where the time went: each timed stage (run.json `timings`), its seconds and share of the total, in run order. */
export function formatTimings(timings: Record<string, number>): string[] {
  const total = timings.total ?? Object.values(timings).reduce((a, b) => a + b, 0);
  const stages = Object.entries(timings).filter(([k]) => k !== 'total');
  const w = Math.max(5, ...stages.map(([k]) => k.length));
  const row = (name: string, s: number) => `${name.padEnd(w)}  ${formatSeconds(s).padStart(8)}  ${total > 0 ? ((100 * s) / total).toFixed(1).padStart(5) : '    —'}%`;
  return ['time per stage:', ...stages.map(([k, s]) => row(k, s)), row('total', total)];
}

/** One progress bar at a time, replaced when the stage reporting progress changes. */
class StageBars {
  private stage: string | undefined;
  private bar: Progress | undefined;

  constructor(
    private readonly io: CliIO,
    private readonly quiet: boolean,
  ) {}

  update(stage: string, done: number, total: number, fields: Record<string, string> = {}): void {
    if (stage !== this.stage) {
      this.close();
      this.stage = stage;
      this.bar = new Progress(this.io, total, stage, this.quiet);
    }
    this.bar!.update(done, fields);
  }

  close(): void {
    this.bar?.done();
    this.bar = undefined;
    this.stage = undefined;
  }
}
