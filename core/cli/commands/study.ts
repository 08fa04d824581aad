import { join } from 'node:path';
import type { Command } from '../command.ts';
import { optBool, optString } from '../args.ts';
import { formatSeconds, Progress } from '../progress.ts';
import type { CliIO } from '../command.ts';
import { pipelineInputs, PIPELINE_INPUT_HELP, PIPELINE_INPUT_OPTIONS } from './pipeline.ts';
import { initBackend } from '../../model/backend.ts';
import { loadPipelineConfig } from '../../stages/pipeline-config.ts';
import { formatStudyTable, runStudy, STUDY_FILES } from '../../stages/study.ts';
import { formatEffects } from '../../stages/study-effects.ts';
import { UserError } from '../../util/errors.ts';

export const studyCommand: Command = {
  name: 'study',
  summary: 'Run the pipeline once per seed; write mean ± std per variant and figure (table, chart, study.json)',
  usage: 'study --seeds 1,2,3 [--config FILE] [--data FILE [--format F]] [--preset smoke|default] [--model MODEL_DIR] [--backend B] [--out DIR] [--json]',
  examples: [
    'lref study --seeds 1,2,3 --preset smoke --out /tmp/study-smoke',
    'lref study --seeds 1,2,3 --data ../shared/data/crowdflower/train.csv --format crowdflower --out runs/cf-study',
  ],
  options: { seeds: { type: 'string' }, ...PIPELINE_INPUT_OPTIONS, out: { type: 'string' } },
  optionHelp: {
    seeds: 'comma-separated seeds, one pipeline run each (required)',
    ...PIPELINE_INPUT_HELP,
    out: 'the study folder; a seed whose run is already there is read back, not rerun (default studies/<time>)',
  },
  async run(args, io) {
    const json = optBool(args, 'json');
    const seedsArg = optString(args, 'seeds');
    if (seedsArg === undefined) throw new UserError('--seeds is required, e.g. --seeds 1,2,3');
    const seeds = seedsArg.split(',').map((s) => s.trim());
    for (const s of seeds) if (!/^\d+$/.test(s)) throw new UserError(`--seeds: "${s}" is not a whole number ≥ 0 (give e.g. --seeds 1,2,3)`);
    const { preset, overrides } = pipelineInputs(args);
    const cfg = loadPipelineConfig({ preset, file: optString(args, 'config'), overrides });

    const backend = await initBackend(optString(args, 'backend'));
    const started = new Date();
    const out = optString(args, 'out') ?? join('studies', started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'));
    if (!json) io.err(`lref study: preset ${cfg.preset} · seeds ${seeds.join(',')} · backend ${backend} · out ${out}`);
    let bar: Progress | undefined;
    let barStage: string | undefined;
    const closeBar = () => {
      bar?.done();
      bar = undefined;
      barStage = undefined;
    };
    const t0 = performance.now();
    const { study } = await runStudy(cfg, {
      outDir: out,
      seeds: seeds.map(Number),
      backend,
      now: started,
      progress: (stage, done, total, fields) => {
        if (stage !== barStage) {
          closeBar();
          barStage = stage;
          bar = new Progress(io as CliIO, total, stage, json);
        }
        bar!.update(done, fields);
      },
      log: (line) => {
        closeBar();
        if (!json) io.err(line);
      },
    });
    closeBar();
    const seconds = (performance.now() - t0) / 1000;
    if (json) {
      const short = (x: number) => +(100 * x).toFixed(2);
      io.out(
        JSON.stringify({
          out,
          seeds: study.seeds,
          seconds: +seconds.toFixed(1),
          split: 'test',
          variants: Object.fromEntries(study.variants.map((v) => [v, { macro_f1: { mean: short(study.test[v].macro_f1.mean), std: short(study.test[v].macro_f1.std) } }])),
          effects: study.effects.map((e) => ({ name: e.name, mean: short(e.test.mean), std: short(e.test.std), wins: e.wins, ...(e.goal ? { goal_met: e.goal.met } : {}) })),
        }),
      );
    } else {
      if (study.valid) {
        io.out(`valid split, mean ± std over ${study.seeds.length} seeds (choose on these):`);
        io.out(formatStudyTable(study.variants, study.valid));
        io.out('');
      }
      io.out(`test split, mean ± std over ${study.seeds.length} seeds (report these):`);
      io.out(formatStudyTable(study.variants, study.test));
      if (study.effects.length > 0) {
        io.out('');
        io.out(`effects, paired by seed (each seed's difference, then mean ± std):`);
        io.out(formatEffects(study.effects));
      }
      io.out(`study in ${formatSeconds(seconds)}: ${join(out, STUDY_FILES.table)}, ${join(out, STUDY_FILES.chart)}`);
    }
    return 0;
  },
};
