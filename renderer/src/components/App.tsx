import { useApp } from '../state/store.ts';
import { NotebookView } from './NotebookView.tsx';
import { DecisionsView } from '../decisions/DecisionsView.tsx';
import { RunsPage } from '../decisions/RunsPage.tsx';
import { lazy, Suspense } from 'react';

// The prompt page carries Monaco: loaded when first opened.
const PromptPage = lazy(() => import('../prompts/PromptPage.tsx').then((m) => ({ default: m.PromptPage })));
import { ShortcutsDialog } from './ShortcutsDialog.tsx';
import { Sidebar } from './Sidebar.tsx';

/** The workbench window: header (notebook, save state, connection), workspace tree, notebook. */
export function App() {
  const nb = useApp((s) => s.nb);
  const page = useApp((s) => s.page);
  const connected = useApp((s) => s.connected);
  const saving = useApp((s) => s.saving);
  const info = useApp((s) => s.info);
  const toasts = useApp((s) => s.toasts);
  return (
    <div className="app">
      <header className="header">
        <span className="brand">LREF Workbench</span>
        {nb && page === 'notebook' && (
          <span className="doc-title" data-testid="doc-title">
            {nb.path}
            <span className="save-state" data-testid="save-state">
              {saving ? 'saving…' : nb.dirty ? '● unsaved' : 'saved'}
            </span>
          </span>
        )}
        <span className="spacer" />
        {info && <span className="muted">{info.shell === 'electron' ? 'desktop' : 'browser mode'}</span>}
        <span className={`conn ${connected ? 'on' : 'off'}`} data-testid="connection">
          {connected ? 'connected' : 'disconnected: reconnecting…'}
        </span>
      </header>
      <div className="main">
        <Sidebar />
        {page === 'decisions' ? (
          <DecisionsView />
        ) : page === 'runs' ? (
          <RunsPage />
        ) : page === 'prompt' ? (
          <Suspense fallback={<div className="empty muted">Loading the editor…</div>}>
            <PromptPage />
          </Suspense>
        ) : (
          <NotebookView />
        )}
      </div>
      <ShortcutsDialog />
      <div className="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast ${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
    </div>
  );
}
