import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { computeMetrics } from '../eval/metrics.ts';
import { loadPipelineConfig } from '../stages/pipeline-config.ts';
import { PredictionRecord, RUN_FILES } from './schema.ts';
import { codeVersion, dataHash, newRunId, readRun, writeJsonl, writeRun, type RunContents } from './store.ts';

const root = mkdtempSync(join(tmpdir(), 'lref-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function contents(): RunContents {
  const pairs = generateDataset({ pairs: 12, seed: 2 }).pairs;
  const config = loadPipelineConfig({ preset: 'smoke' });
  const created = new Date('2025-03-04T05:06:07.890Z');
  const id = newRunId(created, 1);
  const gold = pairs.map((p) => p.label);
  const metrics = [computeMetrics('lexical', gold, gold, LREF5), computeMetrics('+ee', gold, gold.map((g, i) => (i === 0 ? null : g)), LREF5)];
  const timings = { data: 0.5, total: 3 };
  const hash = dataHash(pairs);
  return {
    run: {
      version: 1,
      id,
      created: created.toISOString(),
      config,
      seed: 1,
      backend: 'cpu',
      data: { source: 'generator', scheme: 'lref5', hash, pairs: 12, split: { train: 8, valid: 2, test: 2 } },
      code_version: codeVersion(),
      timings,
      variants: ['lexical', '+ee'],
      training: { '+ee': { steps: 2, losses: [2.5, 2.25] } },
      notes: ['select: kept 3 of 8'],
    },
    metrics: { version: 1, run_id: id, config, seed: 1, backend: 'cpu', data_hash: hash, timings, variants: metrics },
    predictions: [
      ...pairs.map((p) => ({ pair_id: p.pair_id, variant: 'lexical', label: p.label, score: 0.5 })),
      ...pairs.map((p, i) => ({ pair_id: p.pair_id, variant: '+ee', label: i === 0 ? null : p.label, rationale: 'same type', cot_kind: 'ee' as const })),
    ],
    selection: pairs.map((p, i) => ({ pair_id: p.pair_id, gold: p.label, kept: i % 2 === 0, reason: 'all: no selection' as const })),
    pairs,
  };
}

describe('run store', () => {
  it('writes a run folder that reads back equal, validated, with no temp files left', () => {
    const dir = join(root, 'a');
    const c = contents();
    writeRun(dir, c);
    const back = readRun(dir);
    expect(back.run).toEqual(c.run);
    expect(back.metrics).toEqual(c.metrics);
    expect(back.predictions).toEqual(c.predictions);
    expect(back.selection).toEqual(c.selection);
    expect(back.pairs).toEqual(c.pairs);
    expect(readdirSync(dir).sort()).toEqual(['metrics.json', 'pairs.jsonl', 'predictions.jsonl', 'run.json', 'selection.jsonl']);
    expect(readFileSync(join(dir, RUN_FILES.predictions), 'utf8').split('\n').filter(Boolean)).toHaveLength(24);
    expect(c.run.id).toMatch(/^20250304T050607Z-s1-[0-9a-f]{6}$/);
    expect(c.run.code_version).toMatch(/^([0-9a-f]{40}|v\d+\.\d+\.\d+)$/);
  });

  it('a writer that throws mid-stream leaves no file (and an older file untouched)', () => {
    const dir = join(root, 'b');
    const file = join(dir, 'predictions.jsonl');
    function* failing() {
      yield { pair_id: 'p1', variant: 'x', label: 'Exact' };
      throw new Error('disk on fire');
    }
    expect(() => writeJsonl(file, PredictionRecord, failing())).toThrow('disk on fire');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);

    writeFileSync(file, '{"old": true}\n');
    expect(() => writeJsonl(file, PredictionRecord, [{ pair_id: 'p1', variant: 'x', label: 'Exact' }, { pair_id: '', variant: 'x', label: null }])).toThrow(
      `${file}: record 2 is invalid: pair_id`,
    );
    expect(readFileSync(file, 'utf8')).toBe('{"old": true}\n');
    expect(readdirSync(dir)).toEqual(['predictions.jsonl']);
  });

  it('refuses to write an invalid run.json; writes it last, so a failed run has none', () => {
    const dir = join(root, 'c');
    const c = contents();
    const broken = { ...c, run: { ...c.run, seed: 1.5 } };
    expect(() => writeRun(dir, broken)).toThrow(/run\.json: refusing to write an invalid file: seed/);
    expect(existsSync(join(dir, 'metrics.json'))).toBe(true);
    expect(existsSync(join(dir, 'run.json'))).toBe(false);
    expect(() => readRun(dir)).toThrow('not a finished run folder');
  });

  it('readRun names the file and line of a bad record', () => {
    const dir = join(root, 'd');
    writeRun(dir, contents());
    const file = join(dir, RUN_FILES.predictions);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = JSON.stringify({ pair_id: 'p', variant: 'v', label: 'Exact', cot_kind: 'xx' });
    writeFileSync(file, lines.join('\n'));
    expect(() => readRun(dir)).toThrow(`${file}:3: cot_kind: `);
    lines[2] = '{oops';
    writeFileSync(file, lines.join('\n'));
    expect(() => readRun(dir)).toThrow(`${file}:3: not valid JSON`);

    const metrics = join(dir, RUN_FILES.metrics);
    const m = JSON.parse(readFileSync(metrics, 'utf8'));
    m.run_id = 'another';
    writeFileSync(metrics, JSON.stringify(m));
    expect(() => readRun(dir)).toThrow(`${metrics}: run_id: "another" is not this run's id`);
  });

  it('the data hash follows the pairs, not where they came from', () => {
    const a = generateDataset({ pairs: 12, seed: 2 }).pairs;
    expect(dataHash(a)).toBe(dataHash(a.map((p) => ({ ...p }))));
    expect(dataHash(a)).not.toBe(dataHash([...a].reverse()));
    expect(dataHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
