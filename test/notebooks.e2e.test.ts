import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferIO } from './helpers/io.ts';
import { main } from '../core/cli/main.ts';
import { splitByQuery } from '../core/data/split.ts';
import { generateDataset } from '../core/data/synth/generate.ts';
import { MIME } from '../core/kernel/display.ts';
import { readNotebook, sourceText, type CodeCell, type Notebook } from '../core/kernel/notebook.ts';
import { pct } from '../core/kernel/report.ts';
import { readRun } from '../core/runs/store.ts';
import { pipelineConfigOf } from '../core/stages/pipeline-config.ts';
import { repoRoot } from '../core/util/paths.ts';

/**
 * The example notebooks, executed headless as `lref run` does (in-process `main`, the kernel in its
 * child process) with small `-p` overrides so the whole file stays within a few minutes on 2 cores.
 * Each must exit 0 and hold a table and a Vega-Lite chart; beyond that the checks tie what the
 * notebooks show to the data they read (the run folder's metrics, the split sizes), never to a
 * model's score, which changes whenever someone tunes the templates or the model.
 */

const root = mkdtempSync(join(tmpdir(), 'lref-notebooks-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const notebook = (name: string) => join(repoRoot(), 'notebooks', name);

/** Runs a notebook; on failure the assertion message carries the CLI's error lines. */
async function execute(name: string, params: string[]): Promise<Notebook> {
  const out = join(root, name.replace(/\.ipynb$/, `.${params.length}.out.ipynb`));
  const io = bufferIO();
  const code = await main(['run', notebook(name), ...params.flatMap((p) => ['-p', p]), '--out', out], io);
  expect(code, io.stderr.filter((l) => !l.startsWith('[')).join('\n')).toBe(0);
  return readNotebook(out);
}

type Data = Record<string, unknown>;
const cell = (nb: Notebook, id: string): CodeCell => {
  const c = nb.cells.find((x) => x.id === id);
  if (!c || c.cell_type !== 'code') throw new Error(`no code cell "${id}"`);
  return c as CodeCell;
};
/** The MIME payloads of one type in a cell (display_data and execute_result), in output order. */
const payloads = (c: CodeCell, mime: string): unknown[] =>
  c.outputs.flatMap((o) => ('data' in o && (o.data as Data)[mime] !== undefined ? [(o.data as Data)[mime]] : []));
const allPayloads = (nb: Notebook, mime: string) => nb.cells.flatMap((c) => (c.cell_type === 'code' ? payloads(c as CodeCell, mime) : []));
const stdout = (c: CodeCell) => c.outputs.flatMap((o) => (o.output_type === 'stream' && o.name === 'stdout' ? [sourceText(o.text as string | string[])] : [])).join('');

interface Table {
  columns: string[];
  rows: unknown[][];
  title?: string;
}
/** A table's column as an array. */
const column = (t: Table, name: string) => t.rows.map((r) => r[t.columns.indexOf(name)]);
const expectTableAndChart = (nb: Notebook) => {
  expect(allPayloads(nb, MIME.table).length).toBeGreaterThan(0);
  expect(allPayloads(nb, MIME.vegalite).length).toBeGreaterThan(0);
};

const VARIANTS = ['lexical', 'cross_encoder', 'sft_all', 'sft_random', 'sft_selected', '+ee', '+ee:scored', '+ra', '+ra:scored', '+dr', '+dr:scored', '+dpo', '+dpo:scored'];
const runDir = join(root, 'pipeline-run');

describe('example notebooks', () => {
  it('lref-pipeline.ipynb runs every stage and shows the run folder’s own numbers', { timeout: 240_000 }, async () => {
    const config = { train: { steps: 30 }, selection: { auxSteps: 15 }, cot: { steps: 15 }, dpo: { minePairs: 24 }, baselines: { crossEncoder: { steps: 30 } } };
    const nb = await execute('lref-pipeline.ipynb', [`out=${runDir}`, `config=${JSON.stringify(config)}`]);
    expectTableAndChart(nb);

    const run = readRun(runDir); // the notebook's parameters reached the pipeline
    expect(pipelineConfigOf(run.run.config, runDir).train.steps).toBe(30);
    expect(run.run.config.preset).toBe('smoke');
    const [ablation] = payloads(cell(nb, 'table'), MIME.table) as Table[];
    expect(column(ablation, 'variant')).toEqual(VARIANTS);
    expect(column(ablation, 'macro_f1')).toEqual(run.metrics.variants.map((m) => pct(m.macro_f1)));
    expect(column(ablation, 'n')).toEqual(VARIANTS.map(() => run.run.data.split.test));

    const [chart] = payloads(cell(nb, 'chart'), MIME.vegalite) as { data: { values: { variant: string; measure: string }[] } }[];
    expect(chart.data.values).toHaveLength(VARIANTS.length * 3);
    expect(new Set(chart.data.values.map((v) => v.measure))).toEqual(new Set(['macro_f1', 'accuracy', 'optimistic_error_share']));

    // Stage 1: the reasons add up to the train split; stage 2: one shown pair per label, a column per CoT variant.
    const [reasons] = payloads(cell(nb, 'selection'), MIME.table) as Table[];
    expect((column(reasons, 'pairs') as number[]).reduce((a, b) => a + b, 0)).toBe(run.run.data.split.train);
    const [shown] = payloads(cell(nb, 'rationales'), MIME.pairs) as { variants: string[]; pairs: { gold: string }[] }[];
    expect(shown.variants).toEqual(['+ee', '+ra', '+dr', '+dpo']);
    expect(shown.pairs.map((p) => p.gold)).toHaveLength(new Set(shown.pairs.map((p) => p.gold)).size);

    // Stage 3: the before/after table names the last CoT variant and its figures match metrics.json.
    const [dpo] = payloads(cell(nb, 'dpo'), MIME.table) as Table[];
    expect(dpo.columns).toEqual(['figure', '+dr', '+dpo', 'change']);
    const after = run.metrics.variants.find((m) => m.name === '+dpo')!;
    expect(dpo.rows.find((r) => r[0] === 'accuracy %')![2]).toBe(pct(after.accuracy));
    expect(payloads(cell(nb, 'dpo'), MIME.vegalite)).toHaveLength(1);
  });

  it('error-analysis.ipynb reads a variant of that run: confusion and slices add up to its test pairs', async () => {
    const nb = await execute('error-analysis.ipynb', [`run=${runDir}`, 'variant=sft_all']);
    expectTableAndChart(nb);
    const run = readRun(runDir);
    const sftAll = run.metrics.variants.find((m) => m.name === 'sft_all')!;
    expect(stdout(cell(nb, 'load'))).toContain(`analysing variant sft_all of run ${run.run.id}`);
    const [confusion] = payloads(cell(nb, 'confusion'), MIME.confusion) as { matrix: number[][]; labels: string[] }[];
    expect(confusion).toEqual({ labels: sftAll.labels, matrix: sftAll.confusion });

    const [slices] = payloads(cell(nb, 'slices'), MIME.table) as Table[];
    const n = run.run.data.split.test;
    const sumOf = (by: string) => slices.rows.filter((r) => r[0] === by).reduce((a, r) => a + (r[slices.columns.indexOf('n')] as number), 0);
    expect(column(slices, 'slice').slice(0, 3)).toEqual(['head', 'torso', 'tail']);
    expect(sumOf('query_freq')).toBe(n);
    expect(sumOf('intent')).toBe(n);
    const [optimistic] = payloads(cell(nb, 'optimistic'), MIME.table) as Table[];
    expect((column(optimistic, 'pairs') as number[]).reduce((a, b) => a + b, 0)).toBe(Math.round(sftAll.optimistic_rate * n));
  });

  it('error-analysis.ipynb trains a quick model when no run is given', async () => {
    const nb = await execute('error-analysis.ipynb', ['pairs=400', 'steps=20']);
    expectTableAndChart(nb);
    const testPairs = splitByQuery(generateDataset({ pairs: 400, seed: 1 }).pairs, { train: 0.8, valid: 0, test: 0.2, seed: 1 }).test.length;
    const [overall] = payloads(cell(nb, 'load'), MIME.table) as Table[];
    expect(column(overall, 'n')).toEqual([testPairs]);
    expect(stdout(cell(nb, 'load'))).toContain('a quick label model (20 steps on');
  });

  it('prompt-comparison.ipynb: -p edit picks the edited template; the views count the same test pairs', async () => {
    const nb = await execute('prompt-comparison.ipynb', ['edit=no-highlight', 'pairs=500', 'steps=30', 'filter=all', 'show=5']);
    expectTableAndChart(nb);
    expect(sourceText(cell(nb, 'injected-parameters').source)).toContain('const edit = "no-highlight";');
    const [metrics] = payloads(cell(nb, 'metrics'), MIME.table) as Table[];
    expect(column(metrics, 'template')).toEqual(['label', 'label-no-highlight']);
    const testPairs = splitByQuery(generateDataset({ pairs: 500, seed: 1 }).pairs, { train: 0.8, valid: 0, test: 0.2, seed: 1 }).test.length;
    expect(column(metrics, 'n')).toEqual([testPairs, testPairs]);

    const [views, outcomes] = payloads(cell(nb, 'pairs'), MIME.table) as Table[];
    expect(column(views, 'view')).toEqual(['all', 'failures', 'different']);
    const [all, , different] = column(views, 'pairs') as number[];
    expect(all).toBe(testPairs);
    expect((column(outcomes, 'pairs') as number[]).reduce((a, b) => a + b, 0)).toBe(different);
    const [listed] = payloads(cell(nb, 'pairs'), MIME.pairs) as { variants: string[]; pairs: unknown[] }[];
    expect(listed.variants).toEqual(['label', 'label-no-highlight']);
    expect(listed.pairs).toHaveLength(5); // filter=all, show=5
  });
});
