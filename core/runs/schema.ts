import { z } from 'zod';
import { MetricsRecord } from '../eval/metrics.ts';
import { PairRecord } from '../data/schema.ts';

/**
 * The files of a run folder (ARCHITECTURE.md §A run on disk), one zod schema each. The pipeline
 * writes them through store.ts, and every reader (UI, notebooks, serve, export) reads them back
 * through `readRun`, which validates with these same schemas.
 *
 * These schemas depend on nothing that produces the files (no stages/, no teachers/): the pipeline,
 * export, serve and the app all stand on core/runs. The config a run was made with is stored as a
 * versioned JSON object; its meaning belongs to whoever made the run (a pipeline run's is
 * stages/pipeline-config.ts's PipelineConfig, read with `pipelineConfigOf`).
 */

export const RUN_FILES = {
  run: 'run.json',
  metrics: 'metrics.json',
  predictions: 'predictions.jsonl',
  selection: 'selection.jsonl',
  pairs: 'pairs.jsonl',
  checkpoints: 'checkpoints',
  /** the stage datasets (sft.jsonl, cot.jsonl, dpo.jsonl) as text, for export to other trainers */
  datasets: 'datasets',
} as const;

export const DATASET_FILES = { sft: 'sft.jsonl', cot: 'cot.jsonl', dpo: 'dpo.jsonl' } as const;

/** The config that made the run: any versioned JSON object (see the file comment). */
export const RunConfig = z.looseObject({ version: z.number().int().positive() });
export type RunConfig = z.infer<typeof RunConfig>;

/** seconds per stage ("data", "sft_all", "eval/+ee", …) and "total" */
export const Timings = z.record(z.string(), z.number().nonnegative());
export type Timings = z.infer<typeof Timings>;

/** One trained variant's loss trace (the seeded golden trace a rerun must reproduce on the same backend). */
export const TrainingTrace = z
  .object({
    steps: z.number().int().nonnegative(),
    losses: z.array(z.number()),
    /** with a choice on valid: the step whose weights were kept and scored (`steps` counts all trained) */
    kept_step: z.number().int().nonnegative().optional(),
    /** the valid checks: macro-F1 (`score`) for label SFT and the cross-encoder; accuracy and optimistic share for DPO */
    valid_curve: z
      .array(
        z
          .object({ step: z.number().int().nonnegative(), score: z.number().optional(), accuracy: z.number().optional(), optimistic_share: z.number().optional() })
          .strict(),
      )
      .optional(),
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

/** Where a variant that was not trained in the run came from. */
export const ExternalVariant = z
  .object({
    /** "import": a predictions file; "endpoint": an OpenAI-compatible endpoint asked zero-shot */
    kind: z.enum(['import', 'endpoint']),
    /** the file path, or the endpoint's base URL */
    source: z.string().min(1),
    /** ISO 8601 */
    added: z.iso.datetime(),
    /** endpoint: the model name asked */
    model: z.string().optional(),
    /** endpoint: the prompt template's id */
    template: z.string().optional(),
  })
  .strict();
export type ExternalVariant = z.infer<typeof ExternalVariant>;

export const RunManifest = z
  .object({
    version: z.literal(1),
    id: z.string().min(1),
    /** ISO 8601 */
    created: z.iso.datetime(),
    config: RunConfig,
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
    /** variants that joined the run from outside (lref import-predictions, lref judge), by name */
    external: z.record(z.string(), ExternalVariant).optional(),
  })
  .strict();
export type RunManifest = z.infer<typeof RunManifest>;

export const MetricsFile = z
  .object({
    version: z.literal(1),
    run_id: z.string().min(1),
    config: RunConfig,
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


/** Why a pair was kept or dropped; the keys of the per-reason counts. */
export const SelectionReason = z.enum([
  'kept: hard, learnable, not a likely mislabel',
  'easy: IM right',
  'not learnable: CI wrong',
  'likely mislabel: MS agrees',
  'MS disagrees (msDirection eq)',
  'over budget: less hard than those kept',
  'top-up: the rule kept too few',
  'balance: over its grade\'s share',
  'balance: topped up its grade',
  'random: drawn',
  'random: not drawn',
  'all: no selection',
]);
export type SelectionReason = z.infer<typeof SelectionReason>;

/** One line of selection.jsonl: one training pair, what the aux models said, and the verdict. */
export const SelectionRecord = z
  .object({
    pair_id: z.string().min(1),
    gold: z.string().min(1),
    /** aux model predictions; absent for selector "all" (no aux models are trained) */
    im: z.string().optional(),
    ci: z.string().optional(),
    ms: z.string().optional(),
    /** IM's probability of the gold label: how hard the pair is (lower = harder) */
    im_p_gold: z.number().min(0).max(1).optional(),
    /** the teacher's label′ when the pair was in MS's training sample */
    ms_target: z.string().optional(),
    /** the cross-fitting fold: the aux models that judged this pair were trained on other folds only */
    fold: z.number().int().nonnegative().optional(),
    /** the pair's query band (head / torso / tail), so the kept set's band mix can be read back */
    band: z.enum(['head', 'torso', 'tail']).optional(),
    /** the pair's text, so the Stage 1 view can show what was kept without the data source */
    query: z.string().optional(),
    title: z.string().optional(),
    kept: z.boolean(),
    reason: SelectionReason,
  })
  .strict();
export type SelectionRecord = z.infer<typeof SelectionRecord>;

/**
 * One line of datasets/sft.jsonl or datasets/cot.jsonl: a training example of a stage as text, the
 * prompt rendered through the run's template (its special tokens written out, e.g. "<query>") and
 * the completion in the template's layout. What export turns into TRL / LLaMA-Factory files.
 */
export const StageExample = z
  .object({
    pair_id: z.string().min(1),
    /** the template kind: "label" (label SFT) or a CoT kind */
    kind: z.enum(['label', 'ee', 'ra', 'dr']),
    prompt: z.string().min(1),
    completion: z.string().min(1),
    /** the gold grade the completion ends with */
    label: z.string().min(1),
    rationale: z.string().optional(),
  })
  .strict();
export type StageExample = z.infer<typeof StageExample>;

/** One line of datasets/dpo.jsonl: a mined preference, completions decoded from the policy's tokens. */
export const PreferenceExample = z
  .object({
    pair_id: z.string().min(1),
    prompt: z.string().min(1),
    chosen: z.string().min(1),
    rejected: z.string().min(1),
    gold: z.string().min(1),
    rejected_label: z.string().nullable(),
  })
  .strict();
export type PreferenceExample = z.infer<typeof PreferenceExample>;

export { PairRecord };
