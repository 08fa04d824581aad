import { useEffect, useRef } from 'react';
import { keyName, matchHotkey, type HotkeyAction } from '../hotkeys.ts';
import { useApp } from '../state/store.ts';
import { insertCell, interrupt, reloadFromDisk, restart, runCells, save } from '../usecases.ts';
import { CellView } from './CellView.tsx';
import { Toolbar } from './Toolbar.tsx';

/** The open notebook: toolbar, banners (conflict, dead kernel) and cells, with Jupyter's keyboard. */
export function NotebookView() {
  const nb = useApp((s) => s.nb);
  const root = useRef<HTMLDivElement>(null);
  useNotebookKeys(root);

  // Keep the selected cell in view as the keyboard moves it.
  const selected = nb?.selected ?? -1;
  useEffect(() => {
    root.current?.querySelectorAll('[data-testid="cell"]')[selected]?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  if (!nb) return <div className="empty muted">Open a notebook from the left, or create one.</div>;
  return (
    <div className="notebook-pane">
      <Toolbar />
      {nb.conflict && (
        <div className="banner warn" role="alert">
          {nb.conflict.message} {nb.dirty ? 'Your unsaved edits are still here.' : 'You have no unsaved edits.'}
          <button onClick={() => void reloadFromDisk()}>Reload from disk (drop my edits)</button>
          <button onClick={() => void save(true)}>Keep mine (overwrite the file)</button>
        </div>
      )}
      {nb.kernel === 'dead' && (
        <div className="banner error" role="alert">
          The kernel died{nb.kernelReason ? `: ${nb.kernelReason.split('\n')[0]}` : ''}. Variables are gone.
          <button onClick={() => void restart()}>Restart kernel</button>
        </div>
      )}
      <div className="notebook" ref={root} tabIndex={-1} data-testid="notebook" data-mode={nb.mode}>
        {nb.cells.map((c, i) => (
          <CellView key={c.id} cell={c} index={i} selected={i === nb.selected} editing={nb.mode === 'edit'} />
        ))}
        <div className="add-cell">
          <button onClick={() => insertCell(nb.cells.length)}>+ Code</button>
          <button onClick={() => insertCell(nb.cells.length, 'markdown')}>+ Markdown</button>
        </div>
      </div>
    </div>
  );
}

/** One window-level listener (capture phase, so Shift+Enter never reaches Monaco as a newline). */
function useNotebookKeys(root: React.RefObject<HTMLDivElement | null>) {
  useEffect(() => {
    let prev: { name: string; at: number } | undefined;
    const onKey = (e: KeyboardEvent) => {
      const s = useApp.getState();
      const nb = s.nb;
      if (!nb || s.shortcutsOpen || s.page !== 'notebook') return;
      const target = e.target as HTMLElement | null;
      const inEditor = Boolean(target?.closest('.monaco-editor'));
      // Typing in a form field (rename, select) is not a notebook command.
      if (!inEditor && target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      if (!inEditor && !root.current?.contains(target) && target !== document.body && !target?.closest('.toolbar')) return;
      const mode = inEditor ? 'edit' : 'command';
      const name = keyName(e);
      // Esc closes Monaco's suggestion list first, as in any editor.
      if (name === 'Escape' && inEditor && document.querySelector('.suggest-widget.visible')) return;
      const action = matchHotkey(name, mode, prev, performance.now());
      prev = { name, at: performance.now() };
      if (!action) return;
      e.preventDefault();
      e.stopPropagation();
      if (action === 'pending') return;
      prev = undefined;
      act(action, root.current);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [root]);
}

function act(action: HotkeyAction, root: HTMLDivElement | null): void {
  const { nb, dispatch } = useApp.getState();
  if (!nb) return;
  const i = nb.selected;
  const toCommand = () => {
    (document.activeElement as HTMLElement | null)?.blur();
    dispatch({ type: 'mode', mode: 'command' });
    root?.focus();
  };
  switch (action) {
    case 'run-advance':
      if (i >= 0) void runCells([i], true).then(() => root?.focus());
      (document.activeElement as HTMLElement | null)?.blur();
      return;
    case 'run':
      if (i >= 0) void runCells([i]);
      if (nb.cells[i]?.type === 'markdown') toCommand();
      return;
    case 'run-insert':
      if (i >= 0) void runCells([i]);
      insertCell(i + 1);
      setTimeout(() => dispatch({ type: 'mode', mode: 'edit' }));
      return;
    case 'save':
      void save();
      return;
    case 'command-mode':
      if (nb.cells[i]?.type === 'markdown') dispatch({ type: 'markdown-edit', index: i, editing: false });
      toCommand();
      return;
    case 'edit-mode':
      // After this key event ends: focusing the editor inside it would let the Enter type a newline.
      setTimeout(() => {
        if (nb.cells[i]?.type === 'markdown') dispatch({ type: 'markdown-edit', index: i, editing: true });
        dispatch({ type: 'mode', mode: 'edit' });
      });
      return;
    case 'insert-above':
      insertCell(Math.max(0, i));
      return;
    case 'insert-below':
      insertCell(i + 1);
      return;
    case 'delete':
      dispatch({ type: 'delete', index: i });
      return;
    case 'undo-delete':
      dispatch({ type: 'undo-delete' });
      return;
    case 'to-markdown':
      dispatch({ type: 'change-type', index: i, cellType: 'markdown' });
      return;
    case 'to-code':
      dispatch({ type: 'change-type', index: i, cellType: 'code' });
      return;
    case 'interrupt':
      void interrupt();
      return;
    case 'restart':
      void restart();
      return;
    case 'select-up':
      dispatch({ type: 'select', index: i - 1 });
      return;
    case 'select-down':
      dispatch({ type: 'select', index: i + 1 });
      return;
    case 'move-up':
      dispatch({ type: 'move', index: i, by: -1 });
      return;
    case 'move-down':
      dispatch({ type: 'move', index: i, by: 1 });
      return;
    case 'shortcuts':
      useApp.setState({ shortcutsOpen: true });
      return;
  }
}
