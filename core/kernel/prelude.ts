/**
 * The `lref` API a notebook sees. Every export here becomes a global in the kernel and is what
 * `import { … } from 'lref'` in a cell resolves to. To expose a new stage, add one `export *` line
 * (name clashes between modules are compile errors here, so resolve them with an explicit export).
 * Keep the imports cheap to load: the kernel imports this file on every start and restart.
 */
export * from '../data/schema.ts';
export * from '../data/labels.ts';
export * from '../data/load.ts';
export * from '../data/split.ts';
export * from '../data/query-freq.ts';
export * from '../util/rng.ts';
export * from '../text/tokenizer.ts';
export { sampleWrongLabel, parseLabel, COT_KINDS } from '../teachers/teacher.ts';
export { fromDataTeacher } from '../teachers/from-data.ts';
export { MIME, Rich, textTable } from './display.ts';
export { readNotebook, writeNotebook, newNotebook } from './notebook.ts';
