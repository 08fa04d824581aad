import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { getScheme } from '../data/labels.ts';
import { computeMetrics } from '../eval/metrics.ts';
import { inputError, UserError } from '../util/errors.ts';
import { MetricsFile, PredictionRecord, RUN_FILES, RunManifest, type ExternalVariant } from './schema.ts';
import { readRun, writeJsonFile, writeJsonl } from './store.ts';

/**
 * A variant that was not trained in the run joins it: predictions from any external system
 * (`lref import-predictions`) or an OpenAI-compatible endpoint asked zero-shot (`lref judge`). It
 * is measured on the run's own test pairs with the same metrics, so it appears as one more column
 * beside the built-in variants. A pair it gave no answer for counts as an error (label null), as an
 * unparseable answer does: a partial file is never flattered by leaving its misses out.
 */

/** One line of an imported predictions file. */
export const ImportedPrediction = z
  .object({
    pair_id: z.string().min(1),
    /** a label of the run's scheme; null: the system gave no usable answer */
    label: z.string().min(1).nullable(),
    rationale: z.string().optional(),
    probs: z.record(z.string(), z.number().min(0).max(1)).optional(),
  })
  .strict();
export type ImportedPrediction = z.infer<typeof ImportedPrediction>;

const NAME = /^[A-Za-z0-9_+.:@-][A-Za-z0-9_+.:@/ -]{0,63}$/;

/** Reads an imported JSONL file, validating every line against the run: errors name the line. */
export function readImported(file: string, runDir: string): ImportedPrediction[] {
  const run = readRun(runDir);
  const scheme = getScheme(run.run.data.scheme);
  const ids = new Set(run.pairs.map((p) => p.pair_id));
  const seen = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw inputError(file, undefined, `cannot read (${(e as Error).message})`);
  }
  const out: ImportedPrediction[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const at = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw inputError(file, at, `not valid JSON (${(e as Error).message})`);
    }
    const parsed = ImportedPrediction.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.') || '(record)';
      throw inputError(file, at, `${path}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`);
    }
    const r = parsed.data;
    if (!ids.has(r.pair_id)) throw inputError(file, at, `pair_id: "${r.pair_id}" is not a pair of run ${run.run.id} (its pairs.jsonl)`);
    if (seen.has(r.pair_id)) throw inputError(file, at, `pair_id: "${r.pair_id}" already given on line ${seen.get(r.pair_id)}`);
    if (r.label !== null && !scheme.labels.includes(r.label)) throw inputError(file, at, `label: "${r.label}" is not a label of scheme ${scheme.id} (${scheme.labels.join(', ')})`);
    seen.set(r.pair_id, at);
    out.push(r);
  });
  if (out.length === 0) throw inputError(file, undefined, 'no predictions');
  return out;
}

export interface JoinResult {
  name: string;
  answered: number;
  missing: number;
  macro_f1: number;
  accuracy: number;
}

/** Adds `name` to the run: its predictions, its metrics record, and run.json's variants + external entry. */
export function joinVariant(runDir: string, name: string, preds: readonly ImportedPrediction[], source: Omit<ExternalVariant, 'added'>): JoinResult {
  if (!NAME.test(name)) throw new UserError(`--name "${name}": use letters, digits and _ + . : @ / - (at most 64 characters)`);
  const run = readRun(runDir);
  if (run.run.variants.includes(name) || run.metrics.variants.some((m) => m.name === name)) {
    throw new UserError(`${runDir}: the run already has a variant "${name}"; choose another --name`);
  }
  const scheme = getScheme(run.run.data.scheme);
  const byId = new Map(preds.map((p) => [p.pair_id, p]));
  const labels = run.pairs.map((p) => byId.get(p.pair_id)?.label ?? null);
  const record = computeMetrics(name, run.pairs.map((p) => p.label), labels, scheme);
  const added: PredictionRecord[] = run.pairs.map((p, i) => {
    const q = byId.get(p.pair_id);
    return {
      pair_id: p.pair_id,
      variant: name,
      label: labels[i],
      ...(q?.probs ? { probs: q.probs } : {}),
      ...(q?.rationale !== undefined ? { rationale: q.rationale } : {}),
      ...(q === undefined ? { raw: '(no prediction for this pair)' } : {}),
    };
  });
  // predictions and metrics first, run.json last: a reader that sees the variant in run.json finds its files
  writeJsonl(join(runDir, RUN_FILES.predictions), PredictionRecord, [...run.predictions, ...added]);
  const metrics: MetricsFile = { ...run.metrics, variants: [...run.metrics.variants, record] };
  writeJsonFile(join(runDir, RUN_FILES.metrics), MetricsFile, metrics);
  const manifest: RunManifest = {
    ...run.run,
    variants: [...run.run.variants, name],
    external: { ...(run.run.external ?? {}), [name]: { ...source, added: new Date().toISOString() } },
  };
  writeJsonFile(join(runDir, RUN_FILES.run), RunManifest, manifest);
  return { name, answered: preds.length, missing: run.pairs.length - byId.size, macro_f1: record.macro_f1, accuracy: record.accuracy };
}
