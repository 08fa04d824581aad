import { parseJsonText } from '../util/json.ts';
import { z } from 'zod';
import { inputError } from '../util/errors.ts';

/**
 * Jupyter nbformat 4 (.ipynb): schemas and pure helpers, no I/O (the renderer uses them too; the file
 * side is notebook.ts). Schemas are loose (unknown keys pass) and the file's
 * own JSON value is what we keep after validating, so reading and writing loses nothing: unknown
 * metadata and fields stay, `source` stays a string or a list of lines as it was, key order stays.
 * Written like Jupyter writes: 1-space indent, non-ASCII unescaped, trailing newline.
 * (One known difference: a float written `1.0` by Python comes back as `1`; JSON has no such type.)
 */

/** nbformat's "multiline string": one string or a list of lines that join to it. */
export const MultilineString = z.union([z.string(), z.array(z.string())]);
export type MultilineString = z.infer<typeof MultilineString>;

const Metadata = z.looseObject({});
const MimeData = z.record(z.string(), z.unknown());

export const StreamOutput = z.looseObject({ output_type: z.literal('stream'), name: z.string(), text: MultilineString });
export const DisplayDataOutput = z.looseObject({ output_type: z.literal('display_data'), data: MimeData, metadata: Metadata });
export const ExecuteResultOutput = z.looseObject({
  output_type: z.literal('execute_result'),
  execution_count: z.number().int().nullable(),
  data: MimeData,
  metadata: Metadata,
});
export const ErrorOutput = z.looseObject({
  output_type: z.literal('error'),
  ename: z.string(),
  evalue: z.string(),
  traceback: z.array(z.string()),
});
export const Output = z.discriminatedUnion('output_type', [StreamOutput, DisplayDataOutput, ExecuteResultOutput, ErrorOutput]);
export type Output = z.infer<typeof Output>;

export const CodeCell = z.looseObject({
  cell_type: z.literal('code'),
  id: z.string().optional(),
  metadata: Metadata,
  source: MultilineString,
  execution_count: z.number().int().nullable(),
  outputs: z.array(Output),
});
export type CodeCell = z.infer<typeof CodeCell>;
export const MarkdownCell = z.looseObject({ cell_type: z.literal('markdown'), id: z.string().optional(), metadata: Metadata, source: MultilineString });
export const RawCell = z.looseObject({ cell_type: z.literal('raw'), id: z.string().optional(), metadata: Metadata, source: MultilineString });
export const Cell = z.discriminatedUnion('cell_type', [CodeCell, MarkdownCell, RawCell]);
export type Cell = z.infer<typeof Cell>;

export const Notebook = z.looseObject({
  nbformat: z.literal(4),
  nbformat_minor: z.number().int().nonnegative(),
  metadata: Metadata,
  cells: z.array(Cell),
});
export type Notebook = z.infer<typeof Notebook>;

/** What makes GitHub, JupyterLab and VS Code show a notebook as ours. */
export const LREF_KERNELSPEC = { display_name: 'TypeScript (LREF)', language: 'typescript', name: 'lref-typescript' } as const;
export const LREF_LANGUAGE_INFO = { file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript' } as const;

/** "cells[3].outputs[0].text" from a zod issue path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || '(root)';
}

/** Parses and validates notebook JSON text. `file` names the source in errors. */
export function parseNotebook(text: string, file: string): Notebook {
  const raw = parseJsonText(text, file, 'not valid JSON');
  const parsed = Notebook.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw inputError(file, undefined, `not a valid nbformat 4 notebook at ${jsonPath(issue.path)}: ${issue.message}${more}`);
  }
  // The validated value is the file's own JSON: the schemas have no defaults or transforms.
  return raw as Notebook;
}

export function sourceText(s: MultilineString): string {
  return Array.isArray(s) ? s.join('') : s;
}

/** Splits text into Jupyter's list-of-lines form: each line keeps its "\n" except the last. */
export function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === '' ? [] : lines;
}

/** A new empty notebook with our kernelspec. */
export function newNotebook(cells: Cell[] = []): Notebook {
  return {
    cells,
    metadata: { kernelspec: { ...LREF_KERNELSPEC }, language_info: { ...LREF_LANGUAGE_INFO } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

export function newCodeCell(source: string, id: string, tags: string[] = []): CodeCell {
  return {
    cell_type: 'code',
    execution_count: null,
    id,
    metadata: tags.length ? { tags } : {},
    outputs: [],
    source: splitLines(source),
  };
}

export function cellTags(cell: Cell): string[] {
  const tags = (cell.metadata as { tags?: unknown }).tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

export function serializeNotebook(nb: Notebook, opts: { sortKeys?: boolean } = {}): string {
  // Jupyter's own writer sorts keys; the app does too, so what it saves diffs cleanly against JupyterLab's.
  return JSON.stringify(opts.sortKeys ? sortKeys(nb) : nb, null, 1) + '\n';
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}
