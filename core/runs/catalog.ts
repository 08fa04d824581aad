import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsRecord } from '../eval/metrics.ts';
import { UserError } from '../util/errors.ts';
import { MetricsFile, PairRecord, RUN_FILES, RunManifest } from './schema.ts';
import { readJsonFile, readJsonl } from './store.ts';

/**
 * Runs as a catalogue: what `lref runs list|show|diff` print and the app's runs page shows. The run
 * folders are the source of truth and there is no index: listing reads run.json and metrics.json of
 * each folder (a few hundred runs take well under a second), never predictions.
 */

export interface RunSummary {
  dir: string;
  id: string;
  created: string;
  seed: number;
  backend: string;
  preset?: string;
  data: { source: string; scheme: string; pairs: number; test: number };
  code_version: string;
  /** in table order, with the headline figures (test split) */
  variants: { name: string; macro_f1: number; accuracy: number; optimistic_error_share: number; unparseable: number; external?: string }[];
}

export interface BrokenRun {
  dir: string;
  error: string;
}

/** The runs folder of a workspace (`<ws>/runs`) if it has one, else the folder itself. */
export function runsFolder(workspace: string): string {
  const nested = join(workspace, 'runs');
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : workspace;
}

export function summarise(dir: string): RunSummary {
  const run = readJsonFile(join(dir, RUN_FILES.run), RunManifest);
  const metrics = readJsonFile(join(dir, RUN_FILES.metrics), MetricsFile);
  const preset = typeof run.config.preset === 'string' ? run.config.preset : undefined;
  return {
    dir,
    id: run.id,
    created: run.created,
    seed: run.seed,
    backend: run.backend,
    ...(preset ? { preset } : {}),
    data: { source: run.data.source, scheme: run.data.scheme, pairs: run.data.pairs, test: run.data.split.test },
    code_version: run.code_version,
    variants: metrics.variants.map((m) => ({
      name: m.name,
      macro_f1: m.macro_f1,
      accuracy: m.accuracy,
      optimistic_error_share: m.optimistic_error_share,
      unparseable: m.unparseable,
      ...(run.external?.[m.name] ? { external: run.external[m.name].kind } : {}),
    })),
  };
}

/** Every finished run under the workspace's runs folder (one level deep), newest first; broken ones apart. */
export function listRuns(workspace: string): { folder: string; runs: RunSummary[]; broken: BrokenRun[] } {
  const folder = runsFolder(workspace);
  if (!existsSync(folder)) throw new UserError(`${workspace}: no such folder`);
  const runs: RunSummary[] = [];
  const broken: BrokenRun[] = [];
  const candidates = existsSync(join(folder, RUN_FILES.run)) ? [folder] : readdirSync(folder).map((n) => join(folder, n));
  for (const dir of candidates) {
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, RUN_FILES.run))) continue;
    try {
      runs.push(summarise(dir));
    } catch (err) {
      broken.push({ dir, error: (err as Error).message });
    }
  }
  runs.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id.localeCompare(b.id)));
  return { folder, runs, broken };
}

// ------------------------------------------------------------------------------------------------
// diff

export interface ConfigChange {
  /** dotted key path, e.g. "cot.answerFirst" */
  path: string;
  a: unknown;
  b: unknown;
}

const METRIC_KEYS = ['macro_f1', 'weighted_f1', 'accuracy', 'optimistic_rate', 'optimistic_error_share', 'unparseable', 'n'] as const;
type MetricKey = (typeof METRIC_KEYS)[number];

export interface VariantDiff {
  name: string;
  a?: Pick<MetricsRecord, MetricKey>;
  b?: Pick<MetricsRecord, MetricKey>;
  /** b − a for every figure, when the variant is in both */
  delta?: Record<MetricKey, number>;
}

export interface RunDiff {
  a: { dir: string; id: string };
  b: { dir: string; id: string };
  /** run-level facts that differ: seed, backend, code version, data hash */
  run: ConfigChange[];
  config: ConfigChange[];
  variants: VariantDiff[];
  /** false: the runs were measured on different test pairs, so their figures do not compare pair for pair */
  sameTestPairs: boolean;
}

/** Leaf values of a JSON value by dotted path (arrays as leaves: a list of options changes as a whole). */
function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

export function diffConfigs(a: unknown, b: unknown): ConfigChange[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return keys.filter((k) => JSON.stringify(fa.get(k)) !== JSON.stringify(fb.get(k))).map((k) => ({ path: k, a: fa.get(k), b: fb.get(k) }));
}

export function diffRuns(dirA: string, dirB: string): RunDiff {
  const read = (dir: string) => {
    if (!existsSync(join(dir, RUN_FILES.run))) throw new UserError(`${dir}: not a finished run folder (no ${RUN_FILES.run})`);
    return { run: readJsonFile(join(dir, RUN_FILES.run), RunManifest), metrics: readJsonFile(join(dir, RUN_FILES.metrics), MetricsFile) };
  };
  const A = read(dirA);
  const B = read(dirB);
  const facts = (r: RunManifest) => ({ seed: r.seed, backend: r.backend, code_version: r.code_version, data_hash: r.data.hash, data_source: r.data.source, test_pairs: r.data.split.test });
  const pick = (m: MetricsRecord) => Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k]])) as Pick<MetricsRecord, MetricKey>;
  const byName = (f: MetricsFile) => new Map(f.variants.map((m) => [m.name, m]));
  const ma = byName(A.metrics);
  const mb = byName(B.metrics);
  const names = [...ma.keys(), ...[...mb.keys()].filter((n) => !ma.has(n))];
  const variants = names.map((name): VariantDiff => {
    const a = ma.get(name);
    const b = mb.get(name);
    return {
      name,
      ...(a ? { a: pick(a) } : {}),
      ...(b ? { b: pick(b) } : {}),
      ...(a && b ? { delta: Object.fromEntries(METRIC_KEYS.map((k) => [k, b[k] - a[k]])) as Record<MetricKey, number> } : {}),
    };
  });
  return {
    a: { dir: dirA, id: A.run.id },
    b: { dir: dirB, id: B.run.id },
    run: diffConfigs(facts(A.run), facts(B.run)),
    config: diffConfigs(A.run.config, B.run.config),
    variants,
    sameTestPairs: testIds(dirA) === testIds(dirB),
  };
}

function testIds(dir: string): string {
  return readJsonl(join(dir, RUN_FILES.pairs), PairRecord)
    .map((p) => p.pair_id)
    .join('\n');
}
