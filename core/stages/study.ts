import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { MetricsRecord } from '../eval/metrics.ts';
import { alignTable } from '../eval/format.ts';
import { RUN_FILES } from '../runs/schema.ts';
import { readRun } from '../runs/store.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { PipelineConfig } from './pipeline-config.ts';
import { stat, STUDY_FIGURES, StudyTable, type Stat, type StudyFigure } from './study-stat.ts';
import { Effect, formatEffects, studyEffects } from './study-effects.ts';
import { runPipeline, type PipelineOptions } from './pipeline.ts';

/**
 * `lref study`: the pipeline once per seed, then every figure as mean ± std over the seeds — a
 * single run's numbers move by several points with the seed at this scale, so a paper-style table
 * comes from here, not from one run. A study folder holds `seed-<s>/` (one run folder each; a seed
 * whose run.json exists is read back, not rerun, so an interrupted study resumes), `study.json`
 * (both splits, every figure, the per-seed values, and LREF's comparisons as paired per-seed
 * effects, study-effects.ts), `study.md` (the tables) and the chart as `study.svg` and a Vega-Lite
 * spec `study.vl.json`.
 */

export const StudyFile = z
  .object({
    version: z.literal(1),
    seeds: z.array(z.number().int()).min(1),
    /** the config every seed ran (its seed field is the first seed's) */
    config: PipelineConfig,
    /** the run folder of each seed, relative to the study folder */
    runs: z.array(z.string()),
    /** variants in table order */
    variants: z.array(z.string()),
    /** variant → figure → stat, on test (reported) and valid (where choices are made) */
    test: StudyTable,
    valid: StudyTable.optional(),
    /** paired per-seed differences between the variants LREF compares (best vs baselines, selection, CoT, DPO) */
    effects: z.array(Effect),
  })
  .strict();
export type StudyFile = z.infer<typeof StudyFile>;

export const STUDY_FILES = { study: 'study.json', table: 'study.md', chart: 'study.svg', vegalite: 'study.vl.json' } as const;

/** Mean ± std per variant and figure over runs (each a list of MetricsRecords); a variant must be in every run. */
export function aggregate(runs: readonly (readonly MetricsRecord[])[]): { variants: string[]; table: StudyTable } {
  if (runs.length === 0) throw new UserError('study: no runs to aggregate');
  const variants = runs[0].map((m) => m.name);
  const table: StudyTable = {};
  for (const v of variants) {
    const recs = runs.map((r, i) => {
      const m = r.find((x) => x.name === v);
      if (!m) throw new UserError(`study: variant ${v} is missing from run ${i + 1}; the seeds ran different configs`);
      return m;
    });
    table[v] = Object.fromEntries(STUDY_FIGURES.map((f) => [f, stat(recs.map((m) => (f === 'unparseable_rate' ? (m.unparseable_rate ?? m.unparseable / m.n) : m[f])))]));
  }
  return { variants, table };
}

/** "42.70 ± 1.23" in percent. */
export const pm = (s: Stat) => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`;

/** The paper-style table of one split: variant | macro-F1 | weighted-F1 | acc | opt-share | unparsed, mean ± std in percent. */
export function formatStudyTable(variants: readonly string[], table: StudyTable): string {
  const cols: [StudyFigure, string][] = [
    ['macro_f1', 'macro-F1'],
    ['weighted_f1', 'weighted-F1'],
    ['accuracy', 'acc'],
    ['optimistic_error_share', 'opt-share'],
    ['unparseable_rate', 'unparsed'],
  ];
  return alignTable(
    ['variant', ...cols.map(([, h]) => h)],
    variants.map((v) => [v, ...cols.map(([f]) => pm(table[v][f]))]),
  );
}

export interface StudyOptions extends Omit<PipelineOptions, 'outDir'> {
  /** the study folder */
  outDir: string;
  seeds: readonly number[];
}

export interface StudyResult {
  dir: string;
  study: StudyFile;
}

/** Runs (or reads back) one pipeline per seed and writes the study files. */
export async function runStudy(cfg: PipelineConfig, opts: StudyOptions): Promise<StudyResult> {
  const seeds = [...opts.seeds];
  if (seeds.length === 0) throw new UserError('study: --seeds names no seed');
  if (new Set(seeds).size !== seeds.length) throw new UserError(`study: --seeds repeats a seed (${seeds.join(',')})`);
  mkdirSync(opts.outDir, { recursive: true });
  const test: MetricsRecord[][] = [];
  const valid: MetricsRecord[][] = [];
  const runs: string[] = [];
  for (const seed of seeds) {
    const rel = `seed-${seed}`;
    const dir = join(opts.outDir, rel);
    runs.push(rel);
    if (existsSync(join(dir, RUN_FILES.run))) {
      const prior = readRun(dir);
      const { seed: _a, ...want } = cfg;
      const { seed: _b, ...had } = prior.run.config;
      if (JSON.stringify(want) !== JSON.stringify(had)) throw new UserError(`${dir}: holds a run of another config; choose another --out or remove it`);
      opts.log?.(`study: seed ${seed}: reusing the finished run in ${dir}`);
      test.push(prior.metrics.variants);
      valid.push(prior.metrics.valid_variants ?? []);
      continue;
    }
    opts.log?.(`study: seed ${seed} → ${dir}`);
    const r = await runPipeline({ ...cfg, seed }, { ...opts, outDir: dir, pretrainDir: join(opts.outDir, 'pretrained') });
    test.push(r.metrics);
    valid.push(r.validMetrics);
  }
  const t = aggregate(test);
  const validTable = valid.every((x) => x.length > 0) ? aggregate(valid).table : undefined;
  const effects = studyEffects(t.variants, t.table, validTable, cfg.cot.order);
  const study: StudyFile = { version: 1, seeds, config: { ...cfg, seed: seeds[0] }, runs, variants: t.variants, test: t.table, ...(validTable ? { valid: validTable } : {}), effects };
  writeStudy(opts.outDir, study);
  return { dir: opts.outDir, study };
}

export function writeStudy(dir: string, study: StudyFile): void {
  const md = [
    `# Study: ${study.seeds.length} seed(s) (${study.seeds.join(', ')}), preset ${study.config.preset}, data ${study.config.data.source === 'generator' ? 'generator' : study.config.data.path}`,
    '',
    'Mean ± sample std over the seeds, percent. Choose on valid; report test.',
    '',
    '## test (report these)',
    '',
    '```',
    formatStudyTable(study.variants, study.test),
    '```',
  ];
  if (study.valid) md.push('', '## valid (choose on these)', '', '```', formatStudyTable(study.variants, study.valid), '```');
  if (study.effects.length > 0) md.push('', '## effects (paired by seed: each seed\'s difference, then mean ± std; points, or percent of b where relative)', '', '```', formatEffects(study.effects), '```');
  writeFileAtomic(join(dir, STUDY_FILES.study), JSON.stringify(study, null, 1) + '\n');
  writeFileAtomic(join(dir, STUDY_FILES.table), md.join('\n') + '\n');
  writeFileAtomic(join(dir, STUDY_FILES.vegalite), JSON.stringify(studyVegaLite(study), null, 1) + '\n');
  writeFileAtomic(join(dir, STUDY_FILES.chart), studySvg(study));
}

const CHART_FIGURES: [StudyFigure, string, string][] = [
  ['macro_f1', 'macro-F1', '#4c78a8'],
  ['accuracy', 'accuracy', '#f58518'],
  ['optimistic_error_share', 'optimistic share of errors', '#e45756'],
];

/** Grouped bars (mean) with ±std error bars on test, as a Vega-Lite spec (the notebooks' chart format). */
export function studyVegaLite(study: StudyFile): Record<string, unknown> {
  const values = study.variants.flatMap((v) =>
    CHART_FIGURES.map(([f, label]) => {
      const s = study.test[v][f];
      return { variant: v, measure: label, mean: 100 * s.mean, lo: 100 * (s.mean - s.std), hi: 100 * (s.mean + s.std) };
    }),
  );
  const x = { field: 'variant', type: 'nominal', sort: study.variants, axis: { labelAngle: -30 } };
  const xOffset = { field: 'measure', sort: CHART_FIGURES.map(([, l]) => l) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `test split, mean ± std over seeds ${study.seeds.join(', ')}`,
    data: { values },
    encoding: { x, xOffset },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: 'percent', scale: { domain: [0, 100] } }, color: { field: 'measure', type: 'nominal', title: null } } },
      { mark: 'rule', encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
    ],
  };
}

/** The same chart as a standalone SVG, so the study folder can be looked at without a Vega viewer. */
export function studySvg(study: StudyFile): string {
  const W = 60 + study.variants.length * 70;
  const H = 300;
  const top = 30;
  const base = 230;
  const y = (p: number) => base - ((base - top) * Math.max(0, Math.min(100, p))) / 100;
  const bw = 16;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">`,
    `<text x="${W / 2}" y="16" text-anchor="middle" font-size="12">test split, mean ± std over seeds ${study.seeds.join(', ')}</text>`,
  ];
  for (const p of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="40" x2="${W - 10}" y1="${y(p)}" y2="${y(p)}" stroke="#ddd"/><text x="36" y="${y(p) + 3}" text-anchor="end">${p}</text>`);
  }
  study.variants.forEach((v, i) => {
    const x0 = 50 + i * 70;
    CHART_FIGURES.forEach(([f, , color], j) => {
      const s = study.test[v][f];
      const x = x0 + j * (bw + 2);
      const m = 100 * s.mean;
      parts.push(`<rect x="${x}" y="${y(m).toFixed(1)}" width="${bw}" height="${(base - y(m)).toFixed(1)}" fill="${color}"><title>${esc(v)} ${f}: ${pm(s)}</title></rect>`);
      if (s.std > 0) parts.push(`<line x1="${x + bw / 2}" x2="${x + bw / 2}" y1="${y(m - 100 * s.std).toFixed(1)}" y2="${y(m + 100 * s.std).toFixed(1)}" stroke="#000"/>`);
    });
    parts.push(`<text transform="translate(${x0 + 20},${base + 10}) rotate(35)" font-size="10">${esc(v)}</text>`);
  });
  CHART_FIGURES.forEach(([, label, color], j) => {
    parts.push(`<rect x="${50 + j * 150}" y="${H - 14}" width="10" height="10" fill="${color}"/><text x="${64 + j * 150}" y="${H - 5}">${label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
