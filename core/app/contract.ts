import { z } from 'zod';
import { KernelMessage, KernelState } from '../kernel/protocol.ts';
import { Notebook } from '../kernel/nbformat.ts';
import { WireTable } from '../analysis/decisions.ts';
import { Slice } from '../analysis/slices.ts';
import { SelectionRecord } from '../runs/schema.ts';

/**
 * The one contract between the workbench UI (renderer) and core. Electron IPC and browser mode
 * (WebSocket) carry exactly these values; both ends validate at the edge. Requests are one union
 * tagged by `op`; each op's result has its own schema; events are one union tagged by `type`.
 * Paths are always workspace-relative with forward slashes (`notebooks/hello.ipynb`).
 */
export const CONTRACT_VERSION = 1;

const RelPath = z.string().min(1).max(1024);

export const TreeEntry = z.object({
  path: RelPath,
  name: z.string(),
  kind: z.enum(['dir', 'notebook', 'run', 'file', 'template']),
  mtimeMs: z.number(),
  children: z.array(z.lazy((): z.ZodType<TreeEntryT> => TreeEntry)).optional(),
});
export interface TreeEntryT {
  path: string;
  name: string;
  kind: 'dir' | 'notebook' | 'run' | 'file' | 'template';
  mtimeMs: number;
  children?: TreeEntryT[];
}

/** What the UI needs to know to save safely: the file as last read or written. */
export const FileVersion = z.object({ mtimeMs: z.number(), hash: z.string() });
export type FileVersion = z.infer<typeof FileVersion>;

export const ReviewMarks = z.object({ marks: z.record(z.string(), z.object({ label: z.string().optional(), note: z.string().optional(), updated: z.string() })) });

/** op → [params schema, result schema]. Adding an op is one line here plus its handler. */
export const Ops = {
  'app.info': [z.object({}), z.object({ contractVersion: z.number(), workspace: z.string(), shell: z.enum(['electron', 'browser']), backendHint: z.string() })],
  'workspace.tree': [z.object({}), z.object({ root: z.string(), entries: z.array(TreeEntry) })],
  'notebook.open': [z.object({ path: RelPath }), z.object({ path: RelPath, notebook: Notebook, version: FileVersion })],
  'notebook.save': [
    z.object({
      path: RelPath,
      notebook: Notebook,
      /** the version the UI last saw; a different file on disk is a conflict unless `force` */
      base: FileVersion.nullable(),
      force: z.boolean().default(false),
    }),
    z.object({ version: FileVersion }),
  ],
  'notebook.stat': [z.object({ path: RelPath }), z.object({ version: FileVersion.nullable() })],
  'notebook.create': [z.object({ path: RelPath }), z.object({ path: RelPath })],
  'notebook.rename': [z.object({ from: RelPath, to: RelPath }), z.object({ path: RelPath })],
  'notebook.delete': [z.object({ path: RelPath }), z.object({})],
  'kernel.start': [z.object({ path: RelPath }), z.object({ state: KernelState })],
  'kernel.status': [z.object({ path: RelPath }), z.object({ state: KernelState })],
  'kernel.restart': [z.object({ path: RelPath }), z.object({ state: KernelState })],
  'kernel.interrupt': [z.object({ path: RelPath }), z.object({ outcome: z.enum(['interrupted', 'restarted', 'idle']) })],
  'kernel.shutdown': [z.object({ path: RelPath }), z.object({})],
  /** queues cells in order; outputs arrive as events. A cell that errors drops the rest of the queue. */
  'cell.execute': [
    z.object({ path: RelPath, cells: z.array(z.object({ cell_id: z.string().min(1), code: z.string() })).min(1) }),
    z.object({ queued: z.array(z.string()) }),
  ],
  /** a run's run.json and metrics.json as written (prompt comparisons write their own shapes) */
  'runs.read': [z.object({ path: RelPath }), z.object({ path: RelPath, manifest: z.unknown(), metrics: z.unknown() })],
  /** every finished run of the workspace with its headline figures (core/runs/catalog.ts, as `lref runs list`) */
  'runs.catalog': [
    z.object({}),
    z.object({
      runs: z.array(
        z.object({
          path: RelPath,
          id: z.string(),
          created: z.string(),
          seed: z.number(),
          backend: z.string(),
          preset: z.string().optional(),
          data: z.object({ source: z.string(), scheme: z.string(), pairs: z.number(), test: z.number() }),
          variants: z.array(z.object({ name: z.string(), macro_f1: z.number(), accuracy: z.number(), optimistic_error_share: z.number(), unparseable: z.number() })),
        }),
      ),
      broken: z.array(z.object({ path: z.string(), error: z.string() })),
    }),
  ],
  /** config and metric differences of two runs, per variant (as `lref runs diff`) */
  'runs.diff': [z.object({ a: RelPath, b: RelPath }), z.record(z.string(), z.unknown())],
  /** Stage 1 of a run: every training pair's aux-model verdicts and why it was kept or dropped (selection.jsonl) */
  'runs.selection': [
    z.object({ path: RelPath }),
    z.object({
      records: z.array(SelectionRecord),
    }),
  ],
  /** the decision matrix of one or more runs (their test pairs; rationales come per pair) */
  'decisions.load': [z.object({ runs: z.array(RelPath).min(1).max(8) }), WireTable],
  'decisions.pair': [
    z.object({ runs: z.array(RelPath).min(1).max(8), pair_id: z.string().min(1) }),
    z.object({
      pair: z.record(z.string(), z.unknown()),
      answers: z.record(z.string(), z.object({ label: z.string().nullable(), probs: z.record(z.string(), z.number()).optional(), rationale: z.string().optional(), raw: z.string().optional() })),
    }),
  ],
  /** human review of a run's gold labels: marks saved beside the run */
  'review.list': [z.object({ run: RelPath }), ReviewMarks],
  'review.mark': [z.object({ run: RelPath, pair_id: z.string().min(1), label: z.string().optional(), note: z.string().max(5000).optional(), clear: z.boolean().default(false) }), ReviewMarks],
  'review.export': [z.object({ run: RelPath }), z.object({ correctedGold: RelPath, preferences: RelPath, corrected: z.number().int(), pairs: z.number().int() })],
  /** named filters saved in the workspace (slices.json), usable on any run */
  'slices.list': [z.object({}), z.object({ slices: z.array(Slice) })],
  'slices.save': [Slice, z.object({ slices: z.array(Slice) })],
  'slices.delete': [z.object({ name: z.string() }), z.object({ slices: z.array(Slice) })],
  /** prompt templates: JSON files in the workspace (any folder named prompts/), checked as you type */
  'template.read': [z.object({ path: RelPath }), z.object({ path: RelPath, text: z.string(), version: FileVersion })],
  'template.save': [z.object({ path: RelPath, text: z.string(), base: FileVersion.nullable(), force: z.boolean().default(false) }), z.object({ version: FileVersion })],
  'template.builtin': [z.object({ id: z.string() }), z.object({ text: z.string() })],
  'template.check': [
    z.object({ text: z.string() }),
    z.object({ ok: z.boolean(), error: z.string().optional(), unknownPlaceholders: z.array(z.string()), placeholders: z.array(z.string()) }),
  ],
  /** trains one tiny model per template on the same generated pairs in a kernel; outputs arrive as kernel.message events of `cell_id` */
  'prompts.compare': [
    z.object({ templates: z.array(z.string()).min(2).max(4), pairs: z.number().int().min(200).max(20000).default(1200), steps: z.number().int().min(10).max(5000).default(200), seed: z.number().int().default(1) }),
    z.object({ path: RelPath, cell_id: z.string(), out: RelPath }),
  ],
  /** the `lref` API's declarations for the editor's completion and hover */
  'editor.types': [z.object({}), z.object({ files: z.array(z.object({ path: z.string(), content: z.string() })) })],
} as const;

export type Op = keyof typeof Ops;
export type ParamsOf<K extends Op> = z.input<(typeof Ops)[K][0]>;
export type ResultOf<K extends Op> = z.output<(typeof Ops)[K][1]>;

export const OP_NAMES = Object.keys(Ops) as Op[];

/** A request on the wire. `id` pairs it with its response over a shared channel (WebSocket). */
export const Request = z.object({ id: z.number().int().nonnegative(), op: z.enum(OP_NAMES as [Op, ...Op[]]), params: z.unknown() });
export type Request = z.infer<typeof Request>;

export const ErrorCode = z.enum(['bad_request', 'not_found', 'forbidden', 'conflict', 'internal']);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const AppError = z.object({ code: ErrorCode, message: z.string() });
export type AppError = z.infer<typeof AppError>;

export const Response = z.discriminatedUnion('ok', [
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: AppError }),
]);
export type Response = z.infer<typeof Response>;

/** Core → UI, unasked. Kernel messages carry the notebook and the cell they belong to. */
export const AppEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('kernel.message'), path: RelPath, cell_id: z.string(), message: KernelMessage }),
  z.object({ type: z.literal('kernel.state'), path: RelPath, state: KernelState, reason: z.string().optional() }),
  /** the cell was accepted and waits its turn (JupyterLab's `[*]`) */
  z.object({ type: z.literal('cell.queued'), path: RelPath, cell_id: z.string() }),
  /** a queued cell that will not run: an earlier cell failed, or the queue was interrupted */
  z.object({ type: z.literal('cell.aborted'), path: RelPath, cell_id: z.string(), reason: z.string() }),
  /** an open notebook changed on disk behind the app */
  z.object({ type: z.literal('file.changed'), path: RelPath, version: FileVersion.nullable() }),
]);
export type AppEvent = z.infer<typeof AppEvent>;

/** An error the caller caused or can act on; the transport maps it to the wire (and to HTTP codes). */
export class AppFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppFailure';
  }
}

/** Validates params for `op`; a bad request names the field. */
export function parseParams<K extends Op>(op: K, params: unknown): z.output<(typeof Ops)[K][0]> {
  const parsed = Ops[op][0].safeParse(params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('bad_request', `${op}: ${issue.path.join('.') || 'params'}: ${issue.message}`);
  }
  return parsed.data as z.output<(typeof Ops)[K][0]>;
}

/** Validates a result on the receiving side. */
export function parseResult<K extends Op>(op: K, result: unknown): ResultOf<K> {
  const parsed = Ops[op][1].safeParse(result);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppFailure('internal', `${op}: malformed result at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as ResultOf<K>;
}
