import { create } from 'zustand';
import type { ResultOf, TreeEntryT } from '../../../core/app/contract.ts';
import { reduce, type Action, type NotebookState } from './notebook.ts';

/** Everything the UI shows. The open notebook changes only through the pure `reduce`. */
export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export interface AppState {
  connected: boolean;
  info?: ResultOf<'app.info'>;
  tree: TreeEntryT[];
  nb?: NotebookState;
  toasts: Toast[];
  shortcutsOpen: boolean;
  /** what the main pane shows */
  page: 'notebook' | 'decisions' | 'runs' | 'prompt';
  saving: boolean;
  dispatch(a: Action): void;
  setNotebook(nb: NotebookState | undefined): void;
}

export const useApp = create<AppState>((set) => ({
  connected: false,
  tree: [],
  toasts: [],
  shortcutsOpen: false,
  page: 'notebook',
  saving: false,
  dispatch: (a) => set((s) => (s.nb ? { nb: reduce(s.nb, a) } : {})),
  setNotebook: (nb) => set({ nb }),
}));

let toastId = 0;
export function toast(text: string, kind: Toast['kind'] = 'info', ms = 5000): void {
  const t = { id: ++toastId, kind, text };
  useApp.setState((s) => ({ toasts: [...s.toasts, t] }));
  setTimeout(() => useApp.setState((s) => ({ toasts: s.toasts.filter((x) => x.id !== t.id) })), ms);
}
