import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getScheme } from '../data/labels.ts';
import { inputError, UserError } from '../util/errors.ts';
import { parseJsonText } from '../util/json.ts';
import { MISSING, UNPARSEABLE, type DecisionColumn, type DecisionTable, type PairRow } from './decisions.ts';

/**
 * Builds the decision matrix from run folders: the pairs of the first run (pairs.jsonl, the test
 * split) and one column per variant of each run, read from predictions.jsonl. Several runs must
 * grade on one label scheme; a pair missing from a run shows as MISSING in its columns.
 * Rationales stay on disk and come per pair (`pairDetail`): 100K rationales would be most of the bytes.
 */
export interface RunRef {
  /** the folder on disk */
  dir: string;
  /** how columns name the run ("runs/smoke") */
  name: string;
}

interface RawPrediction {
  pair_id: string;
  variant: string;
  label: string | null;
  probs?: Record<string, number>;
  rationale?: string;
  raw?: string;
  split?: string;
}

function* jsonl(file: string): Generator<{ line: number; value: unknown }> {
  const text = readFileSync(file, 'utf8');
  let line = 0;
  for (const l of text.split('\n')) {
    line++;
    if (!l.trim()) continue;
    try {
      yield { line, value: JSON.parse(l) };
    } catch (e) {
      throw inputError(file, line, `not valid JSON: ${(e as Error).message}`);
    }
  }
}

/** A parsed run file, kept while the file is unchanged: opening a pair must not re-read 100K lines. */
const parsed = new Map<string, { mtimeMs: number; size: number; value: unknown }>();
const CACHED_FILES = 8;

function cachedRead<T>(file: string, read: () => T): T {
  const st = statSync(file);
  const hit = parsed.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value as T;
  const value = read();
  parsed.delete(file);
  parsed.set(file, { mtimeMs: st.mtimeMs, size: st.size, value });
  if (parsed.size > CACHED_FILES) parsed.delete(parsed.keys().next().value!);
  return value;
}

/** run.json's grades (its scheme's labels, best → worst) and its variants in table order. */
export function runInfo(dir: string): { labels: string[]; variants: string[] } {
  const runFile = join(dir, 'run.json');
  if (!existsSync(runFile)) throw new UserError(`${dir}: not a run folder (no run.json)`);
  const run = parseJsonText(readFileSync(runFile, 'utf8'), runFile) as { data?: { scheme?: string }; variants?: string[] };
  return { labels: [...getScheme(run.data?.scheme ?? 'lref5').labels], variants: run.variants ?? [] };
}

/** A run's pairs (pairs.jsonl: the test split), whole records, each checked for the fields the views need. */
export interface RunPair {
  pair_id: string;
  query: string;
  title: string;
  label: string;
  query_freq?: string;
  intent?: string;
  [k: string]: unknown;
}

export function runPairs(dir: string): RunPair[] {
  const file = join(dir, 'pairs.jsonl');
  return cachedRead(file, () =>
    [...jsonl(file)].map(({ line, value }) => {
      const p = value as RunPair;
      if (typeof p?.pair_id !== 'string' || typeof p.query !== 'string' || typeof p.title !== 'string') throw inputError(file, line, 'expected {pair_id, query, title, label}');
      return p;
    }),
  );
}

/** Predictions of the test split: runs that evaluate valid too mark each record with its split. */
export function runPredictions(dir: string): RawPrediction[] {
  const file = join(dir, 'predictions.jsonl');
  return cachedRead(file, () => {
    const out: RawPrediction[] = [];
    for (const { line, value } of jsonl(file)) {
      const p = value as RawPrediction;
      if (typeof p?.pair_id !== 'string' || typeof p.variant !== 'string' || (p.label !== null && typeof p.label !== 'string')) {
        throw inputError(file, line, 'expected {pair_id, variant, label}');
      }
      if (p.split === undefined || p.split === 'test') out.push(p);
    }
    return out;
  });
}

export function loadDecisions(runs: readonly RunRef[]): DecisionTable {
  if (runs.length === 0) throw new UserError('no run to compare');
  const labels = runInfo(runs[0].dir).labels;
  for (const r of runs.slice(1)) {
    const other = runInfo(r.dir).labels;
    if (other.join() !== labels.join()) throw new UserError(`${r.name}: grades ${other.join('/')}, but ${runs[0].name} grades ${labels.join('/')}; runs compared side by side need one scheme`);
  }
  const rows: PairRow[] = [];
  const golds: number[] = [];
  const index = new Map<string, number>();
  for (const p of runPairs(runs[0].dir)) {
    index.set(p.pair_id, rows.length);
    rows.push({ pair_id: p.pair_id, query: p.query, title: p.title, ...(p.query_freq ? { band: p.query_freq } : {}), ...(p.intent ? { intent: p.intent } : {}) });
    golds.push(labels.indexOf(p.label ?? ''));
  }
  const columns: DecisionColumn[] = [];
  for (const r of runs) {
    const byVariant = new Map<string, DecisionColumn>();
    for (const p of runPredictions(r.dir)) {
      const i = index.get(p.pair_id);
      if (i === undefined) continue;
      let c = byVariant.get(p.variant);
      if (!c) {
        c = { id: `${r.name}/${p.variant}`, run: r.name, variant: p.variant, pred: new Int8Array(rows.length).fill(MISSING), prob: new Float32Array(rows.length).fill(NaN) };
        byVariant.set(p.variant, c);
      }
      c.pred[i] = p.label === null ? UNPARSEABLE : labels.indexOf(p.label);
      if (p.label !== null && p.probs?.[p.label] !== undefined) c.prob[i] = p.probs[p.label];
    }
    columns.push(...orderLike(r.dir, byVariant));
  }
  return { labels, rows, gold: Int8Array.from(golds), columns };
}

/** Columns in the run's table order (run.json variants), then any joined later. */
function orderLike(dir: string, cols: Map<string, DecisionColumn>): DecisionColumn[] {
  const order = runInfo(dir).variants;
  return [...cols.values()].sort((a, b) => rank(order, a.variant) - rank(order, b.variant));
}

const rank = (order: string[], v: string) => (order.includes(v) ? order.indexOf(v) : order.length);

export interface PairDetail {
  pair: Record<string, unknown>;
  /** column id → what the variant answered */
  answers: Record<string, { label: string | null; probs?: Record<string, number>; rationale?: string; raw?: string }>;
}

/** One pair in full: its record and every variant's answer with rationale and raw output. */
export function pairDetail(runs: readonly RunRef[], pairId: string): PairDetail {
  let pair: Record<string, unknown> | undefined;
  const answers: PairDetail['answers'] = {};
  for (const r of runs) {
    pair ??= runPairs(r.dir).find((p) => p.pair_id === pairId);
    for (const p of runPredictions(r.dir)) {
      if (p.pair_id !== pairId) continue;
      answers[`${r.name}/${p.variant}`] = { label: p.label, ...(p.probs ? { probs: p.probs } : {}), ...(p.rationale ? { rationale: p.rationale } : {}), ...(p.raw ? { raw: p.raw } : {}) };
    }
  }
  if (!pair) throw new UserError(`pair ${pairId} is not in ${runs.map((r) => r.name).join(', ')}`);
  return { pair, answers };
}
