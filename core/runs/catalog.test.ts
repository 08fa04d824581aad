import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { writeTinyRun } from '../../test/helpers/tiny-run.ts';
import { bufferIO } from '../../test/helpers/io.ts';
import { diffRuns, listRuns } from './catalog.ts';
import { readRun } from './store.ts';

const ws = mkdtempSync(join(tmpdir(), 'lref-catalog-'));
const a = join(ws, 'runs', 'a');
const b = join(ws, 'runs', 'b');
beforeAll(async () => {
  await writeTinyRun(a, { steps: 2, seed: 3 });
  await writeTinyRun(b, { steps: 2, seed: 4 });
  mkdirSync(join(ws, 'runs', 'broken'));
  writeFileSync(join(ws, 'runs', 'broken', 'run.json'), '{"version": 1}');
  mkdirSync(join(ws, 'runs', 'in-progress')); // no run.json: not listed
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('lref runs', () => {
  it('lists the finished runs of a workspace, reporting a broken one apart', async () => {
    const { runs, broken, folder } = listRuns(ws);
    expect(folder).toBe(join(ws, 'runs'));
    expect(runs.map((r) => r.dir).sort()).toEqual([a, b]);
    expect(runs[0].variants.map((v) => v.name)).toEqual(['always_exact', 'sft_all']);
    expect(runs[0]).toMatchObject({ preset: 'smoke', data: { source: 'generator', scheme: 'lref5', pairs: 240 } });
    expect(broken).toHaveLength(1);
    expect(broken[0].error).toMatch(/broken\/run\.json: /);
    const io = bufferIO();
    expect(await main(['runs', 'list', '--workspace', ws, '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout[0]).runs).toHaveLength(2);
  });

  it('diffs config, run facts and each variant (B − A)', async () => {
    const d = diffRuns(a, b);
    expect(d.config.map((c) => c.path)).toEqual(['seed']);
    expect(d.config[0]).toEqual({ path: 'seed', a: 3, b: 4 });
    expect(d.run.map((c) => c.path)).toEqual(expect.arrayContaining(['seed', 'data_hash']));
    expect(d.sameTestPairs).toBe(false);
    const ra = readRun(a).metrics.variants.find((m) => m.name === 'sft_all')!;
    const rb = readRun(b).metrics.variants.find((m) => m.name === 'sft_all')!;
    expect(d.variants.find((v) => v.name === 'sft_all')!.delta!.accuracy).toBeCloseTo(rb.accuracy - ra.accuracy, 12);
    const io = bufferIO();
    expect(await main(['runs', 'diff', a, b], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/seed: 3 → 4/);
    expect(io.stdout.join('\n')).toMatch(/different test pairs/);
    const show = bufferIO();
    expect(await main(['runs', 'show', a], show)).toBe(0);
    expect(show.stdout.join('\n')).toMatch(/always_exact/);
  });
});

describe('lref import-predictions', () => {
  it('joins a file as a variant measured on the run\'s test pairs; a missing pair counts as an error', async () => {
    const run = readRun(a);
    const file = join(ws, 'vendor.jsonl');
    // gold for all but the last pair, which gets no prediction
    const lines = run.pairs.slice(0, -1).map((p) => JSON.stringify({ pair_id: p.pair_id, label: p.label, rationale: 'vendor says so' }));
    writeFileSync(file, lines.join('\n') + '\n');
    const io = bufferIO();
    expect(await main(['import-predictions', file, '--run', a, '--name', 'vendor', '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout[0]);
    expect(r).toMatchObject({ name: 'vendor', answered: run.pairs.length - 1, missing: 1 });
    const after = readRun(a);
    expect(after.run.variants).toEqual(['always_exact', 'sft_all', 'vendor']);
    expect(after.run.external?.vendor).toMatchObject({ kind: 'import', source: file });
    const m = after.metrics.variants.find((v) => v.name === 'vendor')!;
    expect(m.accuracy).toBeCloseTo((run.pairs.length - 1) / run.pairs.length, 12);
    const preds = after.predictions.filter((p) => p.variant === 'vendor');
    expect(preds).toHaveLength(run.pairs.length);
    expect(preds[0].rationale).toBe('vendor says so');
    expect(preds[preds.length - 1].label).toBeNull();
    // the name is taken now
    const again = bufferIO();
    expect(await main(['import-predictions', file, '--run', a, '--name', 'vendor'], again)).toBe(2);
    expect(again.stderr[0]).toMatch(/already has a variant "vendor"/);
  });

  it('names the line of an unknown pair id, an unknown label, a duplicate and a bad field; leaves the run as it was', async () => {
    const run = readRun(b);
    const before = readFileSync(join(b, 'predictions.jsonl'), 'utf8');
    const p0 = run.pairs[0].pair_id;
    const cases: [string[], RegExp][] = [
      [[JSON.stringify({ pair_id: p0, label: 'Exact' }), '', JSON.stringify({ pair_id: 'nope', label: 'Exact' })], /bad\.jsonl:3: pair_id: "nope" is not a pair of run/],
      [[JSON.stringify({ pair_id: p0, label: 'Great' })], /bad\.jsonl:1: label: "Great" is not a label of scheme lref5 \(Exact, Significant, Marginal, Trivial, Irrelevant\)/],
      [[JSON.stringify({ pair_id: p0, label: 'Exact' }), JSON.stringify({ pair_id: p0, label: 'Trivial' })], /bad\.jsonl:2: pair_id: ".*" already given on line 1/],
      [[JSON.stringify({ pair_id: p0, grade: 'Exact', label: 'Exact' })], /bad\.jsonl:1: grade: unknown field/],
      [['{oops'], /bad\.jsonl:1: not valid JSON/],
    ];
    for (const [lines, error] of cases) {
      const file = join(ws, 'bad.jsonl');
      writeFileSync(file, lines.join('\n'));
      const io = bufferIO();
      expect(await main(['import-predictions', file, '--run', b, '--name', 'x'], io)).toBe(2);
      expect(io.stderr[0]).toMatch(error);
    }
    expect(readFileSync(join(b, 'predictions.jsonl'), 'utf8')).toBe(before);
  });
});
