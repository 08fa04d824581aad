import type { Transport } from './transport/transport.ts';
import { fromNotebook, toNotebook, type CellType } from './state/notebook.ts';
import { toast, useApp } from './state/store.ts';
import { openDecisionsFromUrl } from './decisions/usecases.ts';
import { onPromptEvent, openTemplate } from './prompts/usecases.ts';

/**
 * What the user can do, as small functions. Components call these and read the store; only this
 * file holds the transport (Electron IPC or WebSocket), so the UI never knows which one it has.
 */
let transport: Transport;
const AUTOSAVE_QUIET_MS = 1500;
const AUTOSAVE_MAX_MS = 10_000;

/** For the other use-case modules (decisions/usecases.ts); components never call it. */
export function core(): Transport {
  return transport;
}

export function setTransport(t: Transport): void {
  transport = t;
  t.onConnection((connected) => useApp.setState({ connected }));
  t.onEvent((event) => {
    useApp.getState().dispatch({ type: 'event', event });
    onPromptEvent(event);
    if (event.type === 'kernel.state' && event.state === 'dead' && event.reason) toast(`Kernel died: ${firstLine(event.reason)}`, 'error', 8000);
  });
  startAutosave();
}

export async function init(): Promise<void> {
  const info = await transport.call('app.info', {});
  useApp.setState({ info, connected: true });
  await refreshTree();
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('view') === 'decisions') await openDecisionsFromUrl();
  else if (hash.get('view') === 'runs') useApp.setState({ page: 'runs' });
  else if (hash.get('view') === 'prompt' && hash.get('path')) await openTemplate(hash.get('path')!);
  else if (hash.get('nb')) await openNotebook(hash.get('nb')!);
}

export async function refreshTree(): Promise<void> {
  const { entries } = await transport.call('workspace.tree', {});
  useApp.setState({ tree: entries });
}

export async function openNotebook(path: string): Promise<void> {
  const current = useApp.getState().nb;
  if (current?.dirty) await save();
  try {
    const { notebook, version } = await transport.call('notebook.open', { path });
    useApp.getState().setNotebook(fromNotebook(path, notebook, version));
    useApp.setState({ page: 'notebook' });
    history.replaceState(null, '', `#${new URLSearchParams({ nb: path }).toString()}`);
    document.title = `${path.split('/').pop()} — LREF Workbench`;
    void transport.call('kernel.status', { path }).then(({ state }) => useApp.getState().dispatch({ type: 'event', event: { type: 'kernel.state', path, state } }));
  } catch (e) {
    toast(`Cannot open ${path}: ${(e as Error).message}`, 'error');
  }
}

/** Saves the open notebook; a file changed on disk is a conflict the user resolves, unless `force`. */
export async function save(force = false): Promise<boolean> {
  const nb = useApp.getState().nb;
  if (!nb || useApp.getState().saving) return false;
  useApp.setState({ saving: true });
  try {
    const { version } = await transport.call('notebook.save', { path: nb.path, notebook: toNotebook(nb), base: nb.version, force });
    useApp.getState().dispatch({ type: 'saved', version, revision: nb.revision });
    return true;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'conflict') {
      const { version } = await transport.call('notebook.stat', { path: nb.path });
      useApp.getState().dispatch({ type: 'conflict', version, message: err.message });
    } else toast(`Save failed: ${err.message}`, 'error');
    return false;
  } finally {
    useApp.setState({ saving: false });
  }
}

/** Reloads the notebook from disk, dropping unsaved edits (the user chose it on a conflict). */
export async function reloadFromDisk(): Promise<void> {
  const nb = useApp.getState().nb;
  if (!nb) return;
  const { notebook, version } = await transport.call('notebook.open', { path: nb.path });
  useApp.getState().dispatch({ type: 'loaded', path: nb.path, notebook, version });
}

function startAutosave(): void {
  let quiet: ReturnType<typeof setTimeout> | undefined;
  let firstDirtyAt = 0;
  useApp.subscribe((s, prev) => {
    if (!s.nb?.dirty || s.nb.conflict || s.nb.revision === prev.nb?.revision) return;
    firstDirtyAt ||= Date.now();
    clearTimeout(quiet);
    const wait = Math.max(0, Math.min(AUTOSAVE_QUIET_MS, firstDirtyAt + AUTOSAVE_MAX_MS - Date.now()));
    quiet = setTimeout(() => {
      firstDirtyAt = 0;
      void save();
    }, wait);
  });
}

/** Runs cells in order (the kernel queues them); with `advance`, selects the cell after the last. */
export async function runCells(indices: number[], advance = false): Promise<void> {
  const nb = useApp.getState().nb;
  if (!nb) return;
  const dispatch = useApp.getState().dispatch;
  const code = indices.map((i) => nb.cells[i]).filter((c) => c?.type === 'code');
  for (const i of indices) if (nb.cells[i]?.type === 'markdown') dispatch({ type: 'markdown-edit', index: i, editing: false });
  if (advance) {
    const last = Math.max(...indices);
    if (last === nb.cells.length - 1) dispatch({ type: 'insert', at: last + 1, id: newCellId() });
    else dispatch({ type: 'select', index: last + 1 });
    dispatch({ type: 'mode', mode: 'command' });
  }
  if (!code.length) return;
  try {
    await transport.call('cell.execute', { path: nb.path, cells: code.map((c) => ({ cell_id: c.id, code: c.source })) });
  } catch (e) {
    toast(`Cannot run: ${(e as Error).message}`, 'error');
  }
}

export const runAll = () => runCells(useApp.getState().nb?.cells.map((_, i) => i) ?? []);

export async function interrupt(): Promise<void> {
  const nb = useApp.getState().nb;
  if (!nb) return;
  const { outcome } = await transport.call('kernel.interrupt', { path: nb.path });
  if (outcome === 'restarted') toast('The cell did not stop, so the kernel was restarted (its variables are gone).', 'error', 8000);
}

export async function restart(thenRunAll = false): Promise<void> {
  const nb = useApp.getState().nb;
  if (!nb) return;
  await transport.call('kernel.restart', { path: nb.path });
  if (thenRunAll) await runAll();
}

export async function createNotebook(name: string): Promise<void> {
  const path = name.endsWith('.ipynb') ? name : `${name}.ipynb`;
  try {
    await transport.call('notebook.create', { path });
    await refreshTree();
    await openNotebook(path);
  } catch (e) {
    toast(`Cannot create ${path}: ${(e as Error).message}`, 'error');
  }
}

export async function renameNotebook(from: string, to: string): Promise<void> {
  const path = to.endsWith('.ipynb') ? to : `${to}.ipynb`;
  try {
    const nb = useApp.getState().nb;
    if (nb?.path === from && nb.dirty) await save();
    await transport.call('notebook.rename', { from, to: path });
    await refreshTree();
    if (nb?.path === from) await openNotebook(path);
  } catch (e) {
    toast(`Cannot rename: ${(e as Error).message}`, 'error');
  }
}

export async function deleteNotebook(path: string): Promise<void> {
  try {
    await transport.call('notebook.delete', { path });
    if (useApp.getState().nb?.path === path) useApp.getState().setNotebook(undefined);
    await refreshTree();
  } catch (e) {
    toast(`Cannot delete: ${(e as Error).message}`, 'error');
  }
}

export function insertCell(at: number, cellType: CellType = 'code'): void {
  useApp.getState().dispatch({ type: 'insert', at, cellType, id: newCellId() });
}

export async function editorTypes() {
  return (await transport.call('editor.types', {})).files;
}

export function newCellId(): string {
  return crypto.randomUUID().slice(0, 8);
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
