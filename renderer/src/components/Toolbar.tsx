import type { KernelState } from '../../../core/kernel/protocol.ts';
import { useApp } from '../state/store.ts';
import { insertCell, interrupt, restart, runAll, runCells, save } from '../usecases.ts';

/** Run, run all, interrupt, restart, restart and run all; the cell type; the kernel's state, always shown. */
export function Toolbar() {
  const nb = useApp((s) => s.nb);
  const dispatch = useApp((s) => s.dispatch);
  if (!nb) return null;
  const sel = nb.selected;
  const cellType = nb.cells[sel]?.type ?? 'code';
  return (
    <div className="toolbar" role="toolbar" aria-label="Notebook">
      <button title="Save (Ctrl+S)" onClick={() => void save()}>
        Save
      </button>
      <span className="sep" />
      <button title="Insert a cell below (B)" onClick={() => insertCell(sel + 1)}>
        + Cell
      </button>
      <button title="Run the cell and select the next (Shift+Enter)" onClick={() => void runCells([sel], true)} disabled={sel < 0}>
        ▶ Run
      </button>
      <button title="Run all cells" onClick={() => void runAll()}>
        ▶▶ Run all
      </button>
      <button title="Interrupt the kernel (I,I)" onClick={() => void interrupt()}>
        ■ Interrupt
      </button>
      <button title="Restart the kernel (0,0)" onClick={() => void restart()}>
        ↻ Restart
      </button>
      <button title="Restart the kernel and run all cells" onClick={() => void restart(true)}>
        ↻▶▶ Restart &amp; run all
      </button>
      <button title="Clear every output" onClick={() => dispatch({ type: 'clear-outputs' })}>
        Clear outputs
      </button>
      <select aria-label="Cell type" value={cellType} disabled={sel < 0} onChange={(e) => dispatch({ type: 'change-type', index: sel, cellType: e.target.value as 'code' | 'markdown' | 'raw' })}>
        <option value="code">Code</option>
        <option value="markdown">Markdown</option>
        <option value="raw">Raw</option>
      </select>
      <span className="spacer" />
      <button title="Keyboard shortcuts (H)" onClick={() => useApp.setState({ shortcutsOpen: true })}>
        ⌨ Shortcuts
      </button>
      <KernelBadge state={nb.kernel} reason={nb.kernelReason} />
    </div>
  );
}

const LABEL: Record<KernelState, string> = { starting: 'starting', idle: 'idle', busy: 'busy', restarting: 'restarting', dead: 'dead' };

export function KernelBadge({ state, reason }: { state: KernelState; reason?: string }) {
  return (
    <span className={`kernel-badge kernel-${state}`} data-testid="kernel-status" data-state={state} title={reason ?? `TypeScript kernel: ${state}`}>
      <span className="dot" /> Kernel: {LABEL[state]}
    </span>
  );
}
