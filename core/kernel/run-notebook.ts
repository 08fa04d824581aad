import { UserError } from '../util/errors.ts';
import { idleCell, transitionCell, type CellRun } from './cell-state.ts';
import { Kernel } from './kernel.ts';
import { cellTags, newCodeCell, sourceText, type CodeCell, type Notebook } from './notebook.ts';
import type { KernelMessage } from './protocol.ts';

/**
 * Headless, papermill-style execution: parameters are injected as a new cell after the cell tagged
 * `parameters`, code cells run in order in one kernel, the run stops at the first error, and the
 * caller is handed the notebook (with outputs so far) to save after every cell.
 */
export const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

/** `-p name=value`: the value as JSON when it parses (numbers, booleans, arrays), else the string. */
export function parseParameter(arg: string): [string, unknown] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UserError(`-p expects name=value, got "${arg}"`);
  const name = arg.slice(0, eq);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new UserError(`-p ${arg}: "${name}" is not a valid variable name`);
  const raw = arg.slice(eq + 1);
  try {
    return [name, JSON.parse(raw)];
  } catch {
    return [name, raw];
  }
}

/**
 * Returns a copy of `nb` with one cell tagged `injected-parameters` that assigns the values, placed
 * right after the `parameters` cell (at the top when there is none). An injected cell left by an
 * earlier run is replaced, as papermill does. With no parameters, the notebook is returned as is.
 */
export function injectParameters(nb: Notebook, params: Record<string, unknown>): { notebook: Notebook; at: number | undefined } {
  const names = Object.keys(params);
  if (names.length === 0) return { notebook: nb, at: undefined };
  const cells = nb.cells.filter((c) => !cellTags(c).includes(INJECTED_TAG));
  const paramsAt = cells.findIndex((c) => c.cell_type === 'code' && cellTags(c).includes(PARAMETERS_TAG));
  const source = ['// Parameters injected by lref run', ...names.map((n) => `const ${n} = ${JSON.stringify(params[n])};`)].join('\n');
  const usedIds = new Set(cells.map((c) => c.id));
  let id = 'injected-parameters';
  for (let k = 2; usedIds.has(id); k++) id = `injected-parameters-${k}`;
  const cell = newCodeCell(source, id, [INJECTED_TAG]);
  if ((nb.nbformat_minor ?? 0) < 5) delete cell.id; // cell ids exist from nbformat 4.5 on
  const at = paramsAt + 1; // 0 when there is no parameters cell
  cells.splice(at, 0, cell);
  return { notebook: { ...nb, cells }, at };
}

export interface CellFailure {
  /** index in notebook.cells (of the executed notebook, so after injection) */
  index: number;
  line?: number;
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface RunNotebookOptions {
  /** kernel working directory: the notebook's folder */
  cwd: string;
  /** per-cell limit; the cell is interrupted when it runs longer */
  cellTimeoutS?: number;
  /** called with the notebook so far after every cell and, throttled, while a cell streams output */
  save?: (nb: Notebook) => void;
  /** every kernel message, with the index of the cell it belongs to (for --log-output) */
  onMessage?: (index: number, msg: KernelMessage) => void;
  onCellDone?: (info: { index: number; ok: boolean; seconds: number; executed: number; total: number }) => void;
  /** a running kernel to use (tests); otherwise one is started and shut down */
  kernel?: Kernel;
  /** aborting it interrupts the running cell (Ctrl+C in `lref run`); the run then stops there */
  interrupt?: AbortSignal;
}

export interface RunNotebookResult {
  notebook: Notebook;
  ok: boolean;
  executed: number;
  failure?: CellFailure;
}

const SAVE_WHILE_RUNNING_MS = 2000;

export async function runNotebook(input: Notebook, opts: RunNotebookOptions): Promise<RunNotebookResult> {
  const nb: Notebook = { ...input, cells: input.cells.map((c) => ({ ...c })) };
  const codeIndexes = nb.cells.flatMap((c, i) => (c.cell_type === 'code' ? [i] : []));
  // Papermill's rule: a run clears every code cell's old outputs, so none are mistaken for this run's.
  for (const i of codeIndexes) Object.assign(nb.cells[i], { outputs: [], execution_count: null });
  const kernel = opts.kernel ?? (await Kernel.start({ cwd: opts.cwd }));
  let executed = 0;
  let failure: CellFailure | undefined;
  let lastSave = performance.now();
  const onInterrupt = () => void kernel.interrupt();
  opts.interrupt?.addEventListener('abort', onInterrupt);
  try {
    for (const i of codeIndexes) {
      const cell = nb.cells[i] as CodeCell;
      let run: CellRun = idleCell();
      const started = performance.now();
      let timedOut = false;
      const timer = opts.cellTimeoutS
        ? setTimeout(() => {
            timedOut = true;
            void kernel.interrupt();
          }, opts.cellTimeoutS * 1000)
        : undefined;
      const outcome = await kernel.execute(sourceText(cell.source), {
        cell_name: `cell ${i}`,
        cell_id: cell.id,
        onMessage: (msg) => {
          if (run.msg_id === undefined && run.phase === 'idle' && 'msg_id' in msg && msg.msg_id) run = transitionCell(run, { type: 'queued', msg_id: msg.msg_id });
          run = transitionCell(run, msg);
          Object.assign(cell, { outputs: run.outputs, execution_count: run.execution_count });
          opts.onMessage?.(i, msg);
          if (opts.save && performance.now() - lastSave > SAVE_WHILE_RUNNING_MS) {
            lastSave = performance.now();
            opts.save(nb);
          }
        },
      });
      clearTimeout(timer);
      executed++;
      if (outcome.error) {
        const err = timedOut
          ? { ...outcome.error, ename: 'Timeout', evalue: `the cell ran longer than --timeout ${opts.cellTimeoutS} s and was stopped (${outcome.error.ename})` }
          : outcome.error;
        if (timedOut) markTimeout(cell, err.ename, err.evalue);
        failure = { index: i, line: err.line, ename: err.ename, evalue: err.evalue, traceback: err.traceback };
      }
      opts.onCellDone?.({ index: i, ok: !failure, seconds: (performance.now() - started) / 1000, executed, total: codeIndexes.length });
      lastSave = performance.now();
      opts.save?.(nb);
      if (failure) break;
    }
  } finally {
    opts.interrupt?.removeEventListener('abort', onInterrupt);
    if (!opts.kernel) await kernel.shutdown();
  }
  return { notebook: nb, ok: !failure, executed, failure };
}

/** The kernel reported "Interrupted"; the saved notebook should say why. */
function markTimeout(cell: CodeCell, ename: string, evalue: string): void {
  const outputs = [...cell.outputs];
  const last = outputs.length - 1;
  if (last >= 0 && outputs[last].output_type === 'error') outputs[last] = { ename, evalue, output_type: 'error', traceback: [`${ename}: ${evalue}`] };
  cell.outputs = outputs;
}
