import type { AppEvent, FileVersion } from '../../../core/app/contract.ts';
import { idleCell, transitionCell, type CellRun } from '../../../core/kernel/cell-state.ts';
import { sourceText, splitLines, type Cell, type Notebook, type Output } from '../../../core/kernel/nbformat.ts';
import type { KernelState } from '../../../core/kernel/protocol.ts';

/**
 * The open notebook as the UI holds it, changed only by `reduce` (pure, tested without a browser).
 * Cells keep the file's own fields (`raw`) so what the app saves round-trips: unknown metadata stays.
 */
export type CellType = 'code' | 'markdown' | 'raw';

export interface CellModel {
  id: string;
  type: CellType;
  source: string;
  /** the cell as read from the file, for fields the app does not edit */
  raw: Record<string, unknown>;
  /** code cells: run state and outputs (cell-state.ts's reducer) */
  run: CellRun;
  /** 1-based line of the cell's last error, marked in the editor */
  errorLine?: number;
  /** why a queued run did not happen (an earlier cell failed, an interrupt) */
  aborted?: string;
  /** markdown cells: being edited (otherwise shown rendered) */
  editing?: boolean;
}

export interface NotebookState {
  path: string;
  metadata: Record<string, unknown>;
  nbformat_minor: number;
  /** other top-level fields of the file, kept as they were */
  extra: Record<string, unknown>;
  cells: CellModel[];
  version: FileVersion | null;
  dirty: boolean;
  /** the selected cell's index; -1 for none */
  selected: number;
  mode: 'command' | 'edit';
  kernel: KernelState;
  kernelReason?: string;
  /** the file changed on disk behind the app: the user decides */
  conflict?: { version: FileVersion | null; message: string };
  /** bumps on every edit, so autosave knows what it saved */
  revision: number;
  /** deleted cells, newest last, for Z (undo delete) */
  trash: { index: number; cell: CellModel }[];
}

export type Action =
  | { type: 'loaded'; path: string; notebook: Notebook; version: FileVersion }
  | { type: 'edit'; id: string; source: string }
  | { type: 'select'; index: number }
  | { type: 'mode'; mode: 'command' | 'edit' }
  | { type: 'insert'; at: number; cellType?: CellType; source?: string; id: string }
  | { type: 'delete'; index: number }
  | { type: 'undo-delete' }
  | { type: 'move'; index: number; by: -1 | 1 }
  | { type: 'change-type'; index: number; cellType: CellType }
  | { type: 'markdown-edit'; index: number; editing: boolean }
  | { type: 'saved'; version: FileVersion; revision: number }
  | { type: 'conflict'; version: FileVersion | null; message: string }
  | { type: 'clear-conflict' }
  | { type: 'clear-outputs' }
  | { type: 'event'; event: AppEvent };

export function fromNotebook(path: string, nb: Notebook, version: FileVersion | null): NotebookState {
  const { cells, metadata, nbformat_minor, nbformat: _v, ...extra } = nb;
  const seen = new Set<string>();
  return {
    path,
    metadata: metadata as Record<string, unknown>,
    nbformat_minor,
    extra,
    cells: cells.map((c, i) => toModel(c, i, seen)),
    version,
    dirty: false,
    selected: cells.length ? 0 : -1,
    mode: 'command',
    kernel: 'starting',
    revision: 0,
    trash: [],
  };
}

function toModel(c: Cell, i: number, seen: Set<string>): CellModel {
  // nbformat 4.5 ids are unique; older files have none, so make one that is stable for the session.
  let id = c.id && !seen.has(c.id) ? c.id : `cell-${i + 1}`;
  while (seen.has(id)) id = `${id}-x`;
  seen.add(id);
  const outputs = c.cell_type === 'code' ? (c.outputs as Output[]) : [];
  const count = c.cell_type === 'code' ? c.execution_count : null;
  return { id, type: c.cell_type, source: sourceText(c.source), raw: c as Record<string, unknown>, run: idleCell(outputs, count) };
}

/** Back to nbformat 4.5: the file's own fields, with the app's source, outputs and counts. */
export function toNotebook(s: NotebookState): Notebook {
  const cells = s.cells.map((c): Cell => {
    const { outputs: _o, execution_count: _e, attachments, ...rest } = c.raw as Record<string, unknown>;
    const base = { ...rest, cell_type: c.type, id: c.id, metadata: (c.raw.metadata as Record<string, unknown>) ?? {}, source: splitLines(c.source) };
    if (c.type === 'code') return { ...base, cell_type: 'code', execution_count: c.run.execution_count, outputs: c.run.outputs } as Cell;
    return (attachments !== undefined && c.type === 'markdown' ? { ...base, attachments } : base) as Cell;
  });
  return { ...s.extra, cells, metadata: s.metadata, nbformat: 4, nbformat_minor: Math.max(5, s.nbformat_minor) } as Notebook;
}

function newCell(id: string, type: CellType, source = ''): CellModel {
  const raw = type === 'code' ? { cell_type: type, id, metadata: {}, source: [], execution_count: null, outputs: [] } : { cell_type: type, id, metadata: {}, source: [] };
  return { id, type, source, raw, run: idleCell(), editing: type === 'markdown' ? true : undefined };
}

const edited = (s: NotebookState, cells: CellModel[], extra: Partial<NotebookState> = {}): NotebookState => ({
  ...s,
  cells,
  dirty: true,
  revision: s.revision + 1,
  ...extra,
});

const clamp = (i: number, n: number) => Math.max(n ? 0 : -1, Math.min(n - 1, i));

export function reduce(s: NotebookState, a: Action): NotebookState {
  switch (a.type) {
    case 'loaded':
      return { ...fromNotebook(a.path, a.notebook, a.version), kernel: s.path === a.path ? s.kernel : 'starting' };
    case 'edit': {
      const i = s.cells.findIndex((c) => c.id === a.id);
      if (i < 0 || s.cells[i].source === a.source) return s;
      return edited(s, replace(s.cells, i, { ...s.cells[i], source: a.source }));
    }
    case 'select':
      return { ...s, selected: clamp(a.index, s.cells.length) };
    case 'mode':
      return s.mode === a.mode ? s : { ...s, mode: a.mode };
    case 'insert': {
      const at = Math.max(0, Math.min(s.cells.length, a.at));
      const cells = [...s.cells.slice(0, at), newCell(a.id, a.cellType ?? 'code', a.source), ...s.cells.slice(at)];
      return edited(s, cells, { selected: at });
    }
    case 'delete': {
      if (a.index < 0 || a.index >= s.cells.length) return s;
      const cells = s.cells.filter((_, i) => i !== a.index);
      return edited(s, cells, { selected: clamp(a.index, cells.length), trash: [...s.trash, { index: a.index, cell: s.cells[a.index] }].slice(-20) });
    }
    case 'undo-delete': {
      const last = s.trash[s.trash.length - 1];
      if (!last) return s;
      const at = Math.min(last.index, s.cells.length);
      const cells = [...s.cells.slice(0, at), last.cell, ...s.cells.slice(at)];
      return edited(s, cells, { selected: at, trash: s.trash.slice(0, -1) });
    }
    case 'move': {
      const to = a.index + a.by;
      if (a.index < 0 || to < 0 || to >= s.cells.length) return s;
      const cells = [...s.cells];
      [cells[a.index], cells[to]] = [cells[to], cells[a.index]];
      return edited(s, cells, { selected: to });
    }
    case 'change-type': {
      const c = s.cells[a.index];
      if (!c || c.type === a.cellType) return s;
      const changed: CellModel = { ...c, type: a.cellType, run: idleCell(), errorLine: undefined, editing: a.cellType === 'markdown' ? false : undefined };
      return edited(s, replace(s.cells, a.index, changed));
    }
    case 'markdown-edit': {
      const c = s.cells[a.index];
      if (!c || c.type !== 'markdown' || Boolean(c.editing) === a.editing) return s;
      return { ...s, cells: replace(s.cells, a.index, { ...c, editing: a.editing }) };
    }
    case 'saved':
      // Edits made while the save was in flight keep the notebook dirty.
      return { ...s, version: a.version, dirty: s.revision !== a.revision, conflict: undefined };
    case 'conflict':
      return { ...s, conflict: { version: a.version, message: a.message } };
    case 'clear-conflict':
      return { ...s, conflict: undefined };
    case 'clear-outputs':
      return edited(s, s.cells.map((c) => (c.type === 'code' ? { ...c, run: idleCell(), errorLine: undefined } : c)));
    case 'event':
      return onEvent(s, a.event);
  }
}

function onEvent(s: NotebookState, e: AppEvent): NotebookState {
  if (e.path !== s.path) return s;
  switch (e.type) {
    case 'kernel.state':
      // Runs in flight when a kernel dies end with their own KernelDied error message, on their cell.
      return { ...s, kernel: e.state, kernelReason: e.state === 'dead' ? e.reason : undefined };
    case 'cell.queued':
      return mapCell(s, e.cell_id, (c) => ({ ...c, run: transitionCell(c.run, { type: 'queued' }), errorLine: undefined, aborted: undefined }));
    case 'cell.aborted':
      return mapCell(s, e.cell_id, (c) => ({ ...c, run: { ...c.run, phase: 'idle' }, aborted: e.reason }));
    case 'kernel.message': {
      const m = e.message;
      return mapCell(s, e.cell_id, (c) => {
        const next = transitionCell(c.run, m);
        return { ...c, run: next, errorLine: m.type === 'error' ? m.line : c.errorLine };
      }, m.type === 'execute_result' || m.type === 'display_data' || m.type === 'stream' || m.type === 'error' || m.type === 'update_display_data');
    }
    case 'file.changed':
      if (e.version && s.version && e.version.hash === s.version.hash) return s;
      return { ...s, conflict: { version: e.version, message: e.version ? 'This notebook changed on disk.' : 'This notebook was deleted on disk.' } };
  }
}

function mapCell(s: NotebookState, id: string, f: (c: CellModel) => CellModel, outputsChanged = false): NotebookState {
  const i = s.cells.findIndex((c) => c.id === id);
  if (i < 0) return s;
  const next = f(s.cells[i]);
  if (next === s.cells[i]) return s;
  // New outputs are part of the document (Jupyter saves them), so they make it dirty.
  return { ...s, cells: replace(s.cells, i, next), ...(outputsChanged ? { dirty: true, revision: s.revision + 1 } : {}) };
}

function replace<T>(xs: T[], i: number, x: T): T[] {
  const out = [...xs];
  out[i] = x;
  return out;
}
