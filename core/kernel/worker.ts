/**
 * The kernel process (started by kernel.ts with `fork`, never run in the UI's or CLI's process).
 * Cells run in this process's own realm via `vm.Script#runInThisContext`, so typed arrays and
 * classes from cells and from `lref` are the same (TF.js checks `instanceof Float32Array`); the
 * process boundary is the isolation, and restart is kill + respawn.
 *
 * Interrupt (SIGINT from the host): `breakOnSigint` stops synchronous code in a cell's first
 * synchronous stretch (`while (true) {}`); after an await, the abort signal `kernel.signal` fires
 * and `kernel.check()` / `kernel.sleep()` throw. Code that is busy after an await and never checks
 * cannot be stopped in-process; the host then restarts the kernel.
 */
import vm from 'node:vm';
import { resolve, isAbsolute } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { HostMessage, type ExecuteRequest, type KernelMessage, type MimeBundle } from './protocol.ts';
import { CellSyntaxError, transpileCell } from './transpile.ts';
import { describeError, type CellScript } from './trace.ts';
import * as mime from './display.ts';

const send = (msg: KernelMessage): void => {
  process.send?.(msg);
};

// ---- streams: everything written to stdout/stderr becomes stream messages of the current cell ----
let currentMsgId = '';
const STREAM_CAP = 2_000_000; // characters per execution; a print loop must not eat the host's memory
let streamed = 0;
let pending: { name: 'stdout' | 'stderr'; text: string }[] = [];
let flushTimer: NodeJS.Timeout | undefined;

function flushStreams(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const p of pending) send({ type: 'stream', msg_id: currentMsgId, name: p.name, text: p.text });
  pending = [];
}

function capture(name: 'stdout' | 'stderr') {
  return (chunk: string | Uint8Array, encodingOrCb?: unknown, cb?: unknown): boolean => {
    let text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (streamed >= STREAM_CAP) text = '';
    else if (streamed + text.length > STREAM_CAP) text = text.slice(0, STREAM_CAP - streamed) + '\n[output truncated]\n';
    streamed += text.length;
    if (text) {
      const last = pending[pending.length - 1];
      if (last && last.name === name) last.text += text;
      else pending.push({ name, text });
      flushTimer ??= setTimeout(flushStreams, 50);
    }
    const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
}
process.stdout.write = capture('stdout') as typeof process.stdout.write;
process.stderr.write = capture('stderr') as typeof process.stderr.write;

// ---- display: the `display` global ----
let displayCount = 0;

function emitDisplay(bundle: MimeBundle, display_id?: string): void {
  flushStreams();
  send({ type: 'display_data', msg_id: currentMsgId, data: bundle, metadata: {}, ...(display_id ? { display_id } : {}) });
}

function emitUpdate(bundle: MimeBundle, display_id: string): void {
  flushStreams();
  send({ type: 'update_display_data', msg_id: currentMsgId, data: bundle, metadata: {}, display_id });
}

interface DisplayHandle {
  display_id: string;
  update(value: unknown): void;
}

function display(value: unknown, opts: { display_id?: string } = {}): DisplayHandle {
  const display_id = opts.display_id ?? `display-${process.pid}-${++displayCount}`;
  emitDisplay(mime.bundleOf(value), display_id);
  return { display_id, update: (v: unknown) => emitUpdate(mime.bundleOf(v), display_id) };
}
display.table = (rows: Record<string, unknown>[], opts?: Parameters<typeof mime.tableBundle>[1]) => void emitDisplay(mime.tableBundle(rows, opts));
display.vegalite = (spec: Record<string, unknown>) => void emitDisplay(mime.vegaliteBundle(spec));
display.html = (html: string) => void emitDisplay(mime.htmlBundle(html));
display.image = (png: Uint8Array, opts?: { width?: number; height?: number }) => void emitDisplay(mime.imageBundle(png, opts));
display.pairs = (records: mime.PairDecision[], opts?: { maxRows?: number }) => void emitDisplay(mime.pairsBundle(records, opts));
display.confusion = (matrix: number[][], labels?: string[]) => void emitDisplay(mime.confusionBundle(matrix, labels));
display.markdown = (md: string) => void emitDisplay({ 'text/markdown': md, 'text/plain': md });
/** The decision matrix of run folders (paths relative to the notebook), live in the app. */
display.decisions = (ref: mime.DecisionsRef) => void emitDisplay(mime.decisionsBundle({ ...ref, runs: ref.runs.map((r) => resolve(process.cwd(), r)) }));
/**
 * A live progress bar: one display_data now, then update_display_data at most every `everyMs`
 * (and always for the last step). `update` is a bound arrow, so it can be passed as a callback.
 */
display.progress = (total: number, label = '', everyMs = 100) => {
  const display_id = `progress-${process.pid}-${++displayCount}`;
  emitDisplay(mime.progressBundle(0, total, label), display_id);
  let last = 0;
  const update = (done: number, fields: Record<string, string | number> = {}): void => {
    const now = performance.now();
    if (done < total && now - last < everyMs) return;
    last = now;
    emitUpdate(mime.progressBundle(done, total, label, fields), display_id);
  };
  return { display_id, update, done: (fields: Record<string, string | number> = {}) => update(total, fields) };
};

// ---- the `kernel` global: interrupt plumbing for async loops ----
let controller = new AbortController();

class Interrupted extends Error {
  constructor() {
    super('the cell was interrupted');
    this.name = 'Interrupted';
  }
}

const kernel = {
  /** aborted when the user interrupts the running cell; pass it to long async work */
  get signal(): AbortSignal {
    return controller.signal;
  },
  /** throws Interrupted if the cell was interrupted: call it in long loops */
  check(): void {
    if (controller.signal.aborted) throw new Interrupted();
  },
  /** an abortable sleep; also a point where an interrupt is noticed */
  sleep(ms: number): Promise<void> {
    return new Promise((res, rej) => {
      if (controller.signal.aborted) return rej(new Interrupted());
      const onAbort = () => {
        clearTimeout(t);
        rej(new Interrupted());
      };
      const t = setTimeout(() => {
        controller.signal.removeEventListener('abort', onAbort);
        res();
      }, ms);
      controller.signal.addEventListener('abort', onAbort, { once: true });
    });
  },
  /** the notebook's folder: relative paths and imports resolve from here */
  cwd: process.cwd(),
};

process.on('SIGINT', () => controller.abort(new Interrupted()));

// ---- module resolution for cells: 'lref' → the prelude, relative → the notebook's folder ----
const preludeUrl = new URL('./prelude.ts', import.meta.url).href;
let prelude: Record<string, unknown> = {};

async function cellImport(spec: string): Promise<unknown> {
  if (spec === 'lref') return prelude;
  if (spec.startsWith('.') || isAbsolute(spec)) return import(pathToFileURL(resolve(process.cwd(), spec)).href);
  return import(spec);
}

// ---- executing cells ----
const scripts = new Map<string, CellScript>();
const INTERNAL_FILES = [fileURLToPath(new URL('.', import.meta.url)), 'node_modules/tsx'];
let executionCount = 0;

async function execute(req: ExecuteRequest): Promise<void> {
  currentMsgId = req.msg_id;
  streamed = 0;
  controller = new AbortController();
  const count = ++executionCount;
  const cellName = req.cell_name ?? `In [${count}]`;
  const file = `lref-cell-${count}`;
  send({ type: 'status', state: 'busy', msg_id: req.msg_id, execution_count: count });
  try {
    const cell = await transpileCell(req.code);
    scripts.set(file, { cellName, scriptLineToCell: cell.scriptLineToCell, sourceLines: req.code.split('\n') });
    const script = new vm.Script(cell.script, { filename: file });
    const value: unknown = await script.runInThisContext({ breakOnSigint: true, displayErrors: false });
    if (controller.signal.aborted) throw new Interrupted();
    flushStreams();
    if (value !== undefined) send({ type: 'execute_result', msg_id: req.msg_id, execution_count: count, data: mime.bundleOf(value), metadata: {} });
  } catch (e) {
    flushStreams();
    send({ type: 'error', msg_id: req.msg_id, ...errorOf(e, cellName, file, req.code) });
  }
  flushStreams();
  send({ type: 'status', state: 'idle', msg_id: req.msg_id, execution_count: count });
}

function errorOf(e: unknown, cellName: string, file: string, code: string) {
  if (e instanceof CellSyntaxError) {
    const lineText = code.split('\n')[e.line - 1] ?? e.lineText;
    return {
      ename: 'SyntaxError',
      evalue: e.message,
      traceback: [`SyntaxError: ${e.message}`, `  at (${cellName}, line ${e.line})\n      ${lineText}\n      ${' '.repeat(e.column)}^`],
      line: e.line,
    };
  }
  if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' || e instanceof Interrupted) {
    return { ename: 'Interrupted', evalue: 'the cell was interrupted', traceback: ['Interrupted: the cell was interrupted'] };
  }
  return describeError(e, scripts, file, INTERNAL_FILES);
}

// ---- the message loop: one execution at a time, in arrival order, none before the globals exist ----
let markReady: () => void = () => {};
let queue = new Promise<void>((r) => (markReady = r));

process.on('message', (raw: unknown) => {
  const parsed = HostMessage.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`kernel: ignored a malformed message: ${parsed.error.issues[0]?.message}\n`);
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'execute_request') queue = queue.then(() => execute(msg));
  else if (msg.type === 'interrupt') controller.abort(new Interrupted());
  else if (msg.type === 'shutdown') {
    flushStreams();
    process.disconnect?.();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

// Errors from timers or promises a cell left behind: report them in the current cell's stderr, keep running.
process.on('uncaughtException', (e) => process.stderr.write(`Uncaught ${e?.stack ?? e}\n`));
process.on('unhandledRejection', (e) => process.stderr.write(`Unhandled rejection: ${(e as Error)?.stack ?? e}\n`));

send({ type: 'status', state: 'starting' });
try {
  prelude = { ...((await import(preludeUrl)) as Record<string, unknown>) };
} catch (e) {
  process.stderr.write(`kernel: the lref prelude failed to load; cells run without it: ${(e as Error).stack ?? e}\n`);
}
Object.assign(globalThis, prelude, { display, kernel, __lref: { import: cellImport } });
markReady();
send({ type: 'status', state: 'idle' });
