import { z } from 'zod';
import { MetricsRecord } from '../eval/metrics.ts';
import { PairRecord } from '../data/schema.ts';
import { SelectionRecord } from '../stages/select-rule.ts';
import { PipelineConfig } from '../stages/pipeline-config.ts';

/**
 * The files of a run folder (ARCHITECTURE.md §A run on disk), one zod schema each. The pipeline
 * writes them through store.ts, and every reader (UI, notebooks, serve, export) reads them back
 * through `readRun`, which validates with these same schemas.
 */

export const RUN_FILES = {
  run: 'run.json',
  metrics: 'metrics.json',
  predictions: 'predictions.jsonl',
  selection: 'selection.jsonl',
  pairs: 'pairs.jsonl',
  checkpoints: 'checkpoints',
} as const;

/** seconds per stage ("data", "sft_all", "eval/+ee", …) and "total" */
export const Timings = z.record(z.string(), z.number().nonnegative());
export type Timings = z.infer<typeof Timings>;

/** One trained variant's loss trace (the seeded golden trace a rerun must reproduce on the same backend). */
export const TrainingTrace = z
  .object({
    steps: z.number().int().nonnegative(),
    losses: z.array(z.number()),
  })
  .strict();
export type TrainingTrace = z.infer<typeof TrainingTrace>;

export const DataSummary = z
  .object({
    /** "generator" or the resolved file path */
    source: z.string().min(1),
    scheme: z.string().min(1),
    /** sha256 of the canonical pairs as JSONL: the same pairs hash the same whichever file they came from */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    pairs: z.number().int().positive(),
    split: z.object({ train: z.number().int(), valid: z.number().int(), test: z.number().int() }).strict(),
  })
  .strict();
export type DataSummary = z.infer<typeof DataSummary>;

export const RunManifest = z
  .object({
    version: z.literal(1),
    id: z.string().min(1),
    /** ISO 8601 */
    created: z.iso.datetime(),
    config: PipelineConfig,
    seed: z.number().int(),
    backend: z.string().min(1),
    data: DataSummary,
    /** git commit when the code is a checkout, else "v<package version>" */
    code_version: z.string().min(1),
    timings: Timings,
    /** the variants evaluated, in table order */
    variants: z.array(z.string().min(1)),
    /** loss traces of the trained variants */
    training: z.record(z.string(), TrainingTrace),
    /** what the stages reported along the way (selection counts, mined pairs, skipped steps) */
    notes: z.array(z.string()),
  })
  .strict();
export type RunManifest = z.infer<typeof RunManifest>;

export const MetricsFile = z
  .object({
    version: z.literal(1),
    run_id: z.string().min(1),
    config: PipelineConfig,
    seed: z.number().int(),
    backend: z.string().min(1),
    data_hash: z.string().regex(/^[0-9a-f]{64}$/),
    timings: Timings,
    /** one record per variant, in table order: the test split (what is reported) */
    variants: z.array(MetricsRecord).min(1),
    /** the same variants on the valid split, where anything is chosen by looking at results (absent in older runs or with no valid pairs) */
    valid_variants: z.array(MetricsRecord).optional(),
  })
  .strict();
export type MetricsFile = z.infer<typeof MetricsFile>;

/** One line of predictions.jsonl: one variant's answer on one evaluated pair. */
export const PredictionRecord = z
  .object({
    pair_id: z.string().min(1),
    variant: z.string().min(1),
    /** null: the variant's output named no grade (counted as an error) */
    label: z.string().min(1).nullable(),
    /** label → probability (scoring variants and the cross-encoder) */
    probs: z.record(z.string(), z.number().min(0).max(1)).optional(),
    /** CoT variants: the rationale the model wrote */
    rationale: z.string().optional(),
    /** CoT variants: the prompt kind it was asked with */
    cot_kind: z.enum(['ee', 'ra', 'dr']).optional(),
    /** unparseable outputs: the raw text, so the UI can show what went wrong */
    raw: z.string().optional(),
    /** the lexical baseline's score */
    score: z.number().optional(),
  })
  .strict();
export type PredictionRecord = z.infer<typeof PredictionRecord>;

export { SelectionRecord, PairRecord };
