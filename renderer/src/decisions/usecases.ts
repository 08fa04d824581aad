import { fromWire } from '../../../core/analysis/decisions.ts';
import { toast, useApp } from '../state/store.ts';
import { core } from '../usecases.ts';
import { useDecisions } from './store.ts';
import { decodeView, encodeView, type DecisionViewState } from './view-state.ts';

/** Opening, changing and reviewing the decision matrix; every change of view goes to the URL. */
export async function openDecisions(view: Omit<DecisionViewState, 'columns'> & { columns?: string[] }): Promise<void> {
  useApp.setState({ page: 'decisions' });
  useDecisions.setState({ loading: true, error: undefined, detail: undefined });
  try {
    const wire = await core().call('decisions.load', { runs: view.runs });
    const table = fromWire(wire);
    const columns = view.columns?.length ? view.columns.filter((c) => table.columns.some((t) => t.id === c)) : table.columns.map((c) => c.id);
    const marks = view.runs.length === 1 ? (await core().call('review.list', { run: view.runs[0] })).marks : {};
    useDecisions.setState({ table, marks, loading: false });
    setView({ ...view, columns });
    document.title = `${view.runs.join(' + ')} — decisions — LREF Workbench`;
    if (view.selected) void openPair(view.selected);
  } catch (e) {
    useDecisions.setState({ loading: false, error: (e as Error).message });
  }
}

/** A run's files as core reads them (run.json, metrics.json). */
export function loadRun(path: string) {
  return core().call('runs.read', { path });
}

/** Stage 1's verdict on every training pair of a run. */
export function loadSelection(path: string) {
  return core().call('runs.selection', { path });
}

/** A decision table for a notebook output (not the open view). */
export async function loadTable(runs: string[]) {
  return fromWire(await core().call('decisions.load', { runs }));
}

export async function openDecisionsFromUrl(): Promise<void> {
  const v = decodeView(location.hash);
  if (v) await openDecisions(v);
}

export function openRun(path: string): Promise<void> {
  return openDecisions({ runs: [path], filters: {}, sort: { by: 'table' }, desc: false });
}

export function setView(v: DecisionViewState): void {
  useDecisions.setState({ view: v });
  history.replaceState(null, '', `#${encodeView(v)}`);
}

export function updateView(change: Partial<DecisionViewState>): void {
  const v = useDecisions.getState().view;
  if (v) setView({ ...v, ...change });
}

export async function openPair(pairId: string | undefined): Promise<void> {
  updateView({ selected: pairId });
  const v = useDecisions.getState().view;
  if (!pairId || !v) return useDecisions.setState({ detail: undefined });
  try {
    const d = await core().call('decisions.pair', { runs: v.runs, pair_id: pairId });
    useDecisions.setState({ detail: { ...d, pair_id: pairId } });
  } catch (e) {
    toast(`Cannot open pair ${pairId}: ${(e as Error).message}`, 'error');
  }
}

/** A human grade (or a note) on a pair of the first run; `null` grade with no note clears the mark. */
export async function markPair(pairId: string, mark: { label?: string; note?: string } | null): Promise<void> {
  const v = useDecisions.getState().view;
  if (!v) return;
  try {
    const { marks } = await core().call('review.mark', { run: v.runs[0], pair_id: pairId, ...(mark ?? {}), clear: mark === null });
    useDecisions.setState({ marks });
  } catch (e) {
    toast(`Cannot save the mark: ${(e as Error).message}`, 'error');
  }
}

export async function exportReview(): Promise<void> {
  const v = useDecisions.getState().view;
  if (!v) return;
  try {
    const r = await core().call('review.export', { run: v.runs[0] });
    toast(`Exported ${r.corrected} corrected gold label(s) to ${r.correctedGold} and ${r.pairs} preference pair(s) to ${r.preferences}`, 'info', 10_000);
  } catch (e) {
    toast(`Export failed: ${(e as Error).message}`, 'error');
  }
}
