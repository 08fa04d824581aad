/**
 * The `lref` API a notebook sees. Every export here becomes a global in the kernel and is what
 * `import { … } from 'lref'` in a cell resolves to. To expose a new stage, add one `export *` line
 * (name clashes between modules are compile errors here, so resolve them with an explicit export).
 * Keep the imports cheap to load: the kernel imports this file on every start and restart. The
 * model/stage modules pull in TF.js (~0.8 s of a kernel start); that is the price of notebooks
 * that train, and no backend is initialised until a cell calls `initBackend()`.
 */
// Data: the pair record, label schemes, loaders, splits, the built-in generator.
export * from '../data/schema.ts';
export * from '../data/labels.ts';
export * from '../data/load.ts';
export * from '../data/split.ts';
export * from '../data/query-freq.ts';
export * from '../data/synth/index.ts';
export * from '../util/rng.ts';
// Text: tokenizer and user-editable prompt templates.
export * from '../text/tokenizer.ts';
export * from '../text/prompts.ts';
// Evaluation: metrics and their text tables.
export * from '../eval/metrics.ts';
export * from '../eval/format.ts';
// Models and stages: backend ladder, relevance models, the three LREF stages, baselines, the pipeline.
export { initBackend, BACKEND_LADDER } from '../model/backend.ts';
export { ModelConfig, TrainConfig } from '../model/config.ts';
export { presetFor } from '../model/presets.ts';
export * from '../stages/relevance-model.ts';
export * from '../stages/context.ts';
export * from '../stages/select-rule.ts';
export * from '../stages/select.ts';
export * from '../stages/cot.ts';
export * from '../stages/dpo.ts';
export { trainLexical, predictLexical, type LexicalModel } from '../stages/baselines/lexical.ts';
export { trainCrossEncoder, predictCrossEncoder, CrossEncoderConfig, type CrossEncoder } from '../stages/baselines/cross-encoder.ts';
export * from '../stages/pipeline-config.ts';
export * from '../stages/pipeline.ts';
// Prompt prototyping: two templates on the same pairs, model and seed (the app's prompt page runs this).
export { comparePrompts, type PromptCompareOptions, type PromptCompareResult } from '../analysis/prompt-compare.ts';
// Runs: the run folder's schemas and reader.
export { RUN_FILES, RunManifest, MetricsFile, PredictionRecord, TrainingTrace } from '../runs/schema.ts';
export { readRun, readJsonl, dataHash, type RunContents } from '../runs/store.ts';
// Teachers.
export { sampleWrongLabel, parseLabel, COT_KINDS } from '../teachers/teacher.ts';
export { fromDataTeacher } from '../teachers/from-data.ts';
export { RuleTeacher } from '../teachers/rules.ts';
// The notebook itself.
export { MIME, Rich, textTable } from './display.ts';
export { readNotebook, writeNotebook, newNotebook } from './notebook.ts';
export { metricsRows, groupedBars, pct, METRIC_COLUMNS } from './report.ts';
