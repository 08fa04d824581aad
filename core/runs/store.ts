import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { AtomicLineWriter, writeFileAtomic } from '../util/atomic.ts';
import { inputError, UserError } from '../util/errors.ts';
import { repoRoot } from '../util/paths.ts';
import {
  DATASET_FILES,
  MetricsFile,
  PairRecord,
  PredictionRecord,
  PreferenceExample,
  RUN_FILES,
  RunManifest,
  SelectionRecord,
  StageExample,
} from './schema.ts';

/**
 * Writing and reading a run folder. Every file is validated before it is written and written
 * atomically (a temp file renamed into place), so a reader sees a whole file or none; run.json is
 * written last, so a folder with a run.json holds a finished run.
 */

export interface RunContents {
  run: RunManifest;
  metrics: MetricsFile;
  predictions: readonly PredictionRecord[];
  selection: readonly SelectionRecord[];
  pairs: readonly PairRecord[];
  /** the stage datasets as text (optional: runs before they were written have none) */
  datasets?: StageDatasets;
}

export interface StageDatasets {
  sft: readonly StageExample[];
  cot: readonly StageExample[];
  dpo: readonly PreferenceExample[];
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}

/** Validates `value` and writes it as pretty JSON, atomically. */
export function writeJsonFile<S extends z.ZodType>(path: string, schema: S, value: z.input<S>): void {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${path}: refusing to write an invalid file: ${issueText(parsed.error)}`);
  writeFileAtomic(path, JSON.stringify(parsed.data, null, 1) + '\n');
}

/**
 * Streams records to JSONL, validating each; the file appears only when every record was written.
 * A record that fails validation, or an iterable that throws, leaves the target as it was.
 */
export function writeJsonl<S extends z.ZodType>(path: string, schema: S, records: Iterable<z.input<S>>): number {
  const w = new AtomicLineWriter(path);
  let n = 0;
  try {
    for (const r of records) {
      const parsed = schema.safeParse(r);
      if (!parsed.success) throw new Error(`${path}: record ${n + 1} is invalid: ${issueText(parsed.error)}`);
      w.writeLine(JSON.stringify(parsed.data));
      n++;
    }
    w.commit();
  } catch (err) {
    w.abort();
    throw err;
  }
  return n;
}

export function writeRun(dir: string, c: RunContents): void {
  if (c.datasets) writeDatasets(dir, c.datasets);
  writeJsonl(join(dir, RUN_FILES.pairs), PairRecord, c.pairs);
  writeJsonl(join(dir, RUN_FILES.selection), SelectionRecord, c.selection);
  writeJsonl(join(dir, RUN_FILES.predictions), PredictionRecord, c.predictions);
  writeJsonFile(join(dir, RUN_FILES.metrics), MetricsFile, c.metrics);
  writeJsonFile(join(dir, RUN_FILES.run), RunManifest, c.run);
}

function readText(file: string): string {
  if (!existsSync(file)) throw inputError(file, undefined, 'missing from the run folder');
  return readFileSync(file, 'utf8');
}

export function readJsonFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(readText(file));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw inputError(file, undefined, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw inputError(file, undefined, issueText(parsed.error));
  return parsed.data;
}

export function readJsonl<S extends z.ZodType>(file: string, schema: S): z.output<S>[] {
  const out: z.output<S>[] = [];
  readText(file)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (err) {
        throw inputError(file, i + 1, `not valid JSON (${(err as Error).message})`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw inputError(file, i + 1, issueText(parsed.error));
      out.push(parsed.data);
    });
  return out;
}

export function writeDatasets(dir: string, d: StageDatasets): void {
  const at = (name: string) => join(dir, RUN_FILES.datasets, name);
  writeJsonl(at(DATASET_FILES.sft), StageExample, d.sft);
  writeJsonl(at(DATASET_FILES.cot), StageExample, d.cot);
  writeJsonl(at(DATASET_FILES.dpo), PreferenceExample, d.dpo);
}

/** The run's stage datasets, or undefined when the run has none (written before they existed). */
export function readDatasets(dir: string): StageDatasets | undefined {
  const at = (name: string) => join(dir, RUN_FILES.datasets, name);
  if (!existsSync(at(DATASET_FILES.sft))) return undefined;
  return { sft: readJsonl(at(DATASET_FILES.sft), StageExample), cot: readJsonl(at(DATASET_FILES.cot), StageExample), dpo: readJsonl(at(DATASET_FILES.dpo), PreferenceExample) };
}

/** Reads and validates a whole run folder. */
export function readRun(dir: string): RunContents & { dir: string } {
  if (!existsSync(join(dir, RUN_FILES.run))) {
    throw new UserError(`${dir}: not a finished run folder (no ${RUN_FILES.run}; a run still in progress or interrupted has none)`);
  }
  const run = readJsonFile(join(dir, RUN_FILES.run), RunManifest);
  const metrics = readJsonFile(join(dir, RUN_FILES.metrics), MetricsFile);
  if (metrics.run_id !== run.id) throw inputError(join(dir, RUN_FILES.metrics), undefined, `run_id: "${metrics.run_id}" is not this run's id "${run.id}"`);
  return {
    dir,
    run,
    metrics,
    predictions: readJsonl(join(dir, RUN_FILES.predictions), PredictionRecord),
    selection: readJsonl(join(dir, RUN_FILES.selection), SelectionRecord),
    pairs: readJsonl(join(dir, RUN_FILES.pairs), PairRecord),
  };
}

/** sha256 of the pairs as canonical JSONL (one JSON.stringify per pair, in order). */
export function dataHash(pairs: readonly PairRecord[]): string {
  const h = createHash('sha256');
  for (const p of pairs) h.update(JSON.stringify(p) + '\n');
  return h.digest('hex');
}

/** A sortable, readable id: UTC time to the second, the seed, and a short hash against collisions. */
export function newRunId(created: Date, seed: number, salt = ''): string {
  const t = created.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const h = createHash('sha256').update(`${created.toISOString()}|${seed}|${salt}|${process.pid}`).digest('hex').slice(0, 6);
  return `${t}-s${seed}-${h}`;
}

/** The git commit of the checkout, else the package version ("v0.1.0"). */
export function codeVersion(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    if (/^[0-9a-f]{40}$/.test(sha)) return sha;
  } catch {
    // not a checkout, or git is not installed: fall back to the package version
  }
  try {
    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
    return `v${pkg.version ?? '0.0.0'}`;
  } catch {
    return 'unknown';
  }
}
