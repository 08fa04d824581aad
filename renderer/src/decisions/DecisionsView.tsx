import { useDeferredValue, useEffect, useMemo } from 'react';
import { filterRows, sortRows, warmFilters } from '../../../core/analysis/decisions.ts';
import { DecisionGrid } from './DecisionGrid.tsx';
import { FilterBar } from './FilterBar.tsx';
import { Matrices } from './Matrices.tsx';
import { MetricsPanel } from './MetricsPanel.tsx';
import { Stage1Panel } from './Stage1Panel.tsx';
import { PairPanel } from './PairPanel.tsx';
import { SlicesPanel } from './SlicesPanel.tsx';
import { useDecisions } from './store.ts';
import { exportReview, updateView } from './usecases.ts';
import { comparedColumns } from './view-state.ts';

/** Per-pair decisions across variants and runs: filters, the grid, matrices and the open pair. */
export function DecisionsView() {
  const { table, view, loading, error } = useDecisions();
  const rows = useMemo(() => {
    if (!table || !view) return new Int32Array(0);
    try {
      return sortRows(table, filterRows(table, view.columns, view.filters), view.columns, view.sort, view.desc);
    } catch {
      return new Int32Array(0); // a regex being typed; the filter bar says what is wrong
    }
  }, [table, view]);
  // The grid answers a filter at once; counts, matrices, slices and column accuracies follow in a
  // background render React can interrupt, so a click paints its rows before they are recomputed.
  const settledView = useDeferredValue(view);
  const settledRows = useDeferredValue(rows);
  const columns = view?.columns;
  const [from, to] = view ? comparedColumns(view) : [];
  useEffect(() => {
    if (!table || !columns) return;
    const idle = requestIdleCallback(() => {
      try {
        warmFilters(table, columns, from && to ? [from, to] : undefined);
      } catch {
        // a column the view names is gone; the grid says so
      }
    });
    return () => cancelIdleCallback(idle);
  }, [table, columns, from, to]);
  if (loading) return <div className="empty muted">Loading decisions…</div>;
  if (error) return <div className="empty output-error">{error}</div>;
  if (!table || !view) return null;
  const toggleColumn = (id: string) => {
    const on = view.columns.includes(id);
    const next = on ? view.columns.filter((c) => c !== id) : table.columns.map((c) => c.id).filter((c) => c === id || view.columns.includes(c));
    if (next.length) updateView({ columns: next });
  };
  const tabs = (
    <span className="tabs" role="tablist">
      {(['matrix', 'metrics', 'stage1'] as const).map((t) => (
        <button key={t} role="tab" aria-selected={(view.tab ?? 'matrix') === t} className={(view.tab ?? 'matrix') === t ? 'on' : ''} onClick={() => updateView({ tab: t })}>
          {t === 'matrix' ? 'Decisions' : t === 'metrics' ? 'Metrics' : 'Stage 1'}
        </button>
      ))}
    </span>
  );
  if (view.tab === 'metrics' || view.tab === 'stage1') {
    return (
      <div className="decisions-pane" data-testid="decisions">
        <div className="decisions-head">{tabs}</div>
        {view.tab === 'metrics' ? <MetricsPanel run={view.runs[0]} /> : <Stage1Panel run={view.runs[0]} />}
      </div>
    );
  }
  return (
    <div className="decisions-pane" data-testid="decisions">
      <div className="decisions-head">
        {tabs}
        <b>{view.runs.join(' + ')}</b>
        <span className="muted">
          {rows.length} of {table.rows.length} pairs
        </span>
        <span className="column-picker" aria-label="Columns">
          {table.columns.map((c) => (
            <label key={c.id} className={view.columns.includes(c.id) ? 'on' : ''}>
              <input type="checkbox" checked={view.columns.includes(c.id)} onChange={() => toggleColumn(c.id)} />
              {view.runs.length > 1 ? c.id : c.variant}
            </label>
          ))}
        </span>
        <span className="spacer" />
        {view.runs.length === 1 && (
          <button onClick={() => void exportReview()} title="corrected gold JSONL and TRL preference pairs from your marks">
            Export review
          </button>
        )}
      </div>
      <FilterBar table={table} view={view} countsFor={settledView ?? view} />
      <div className="decisions-body">
        <DecisionGrid table={table} view={view} rows={rows} accuracyRows={settledRows} />
        <aside className="decisions-side">
          <PairPanel table={table} view={view} />
          <Matrices table={table} view={settledView ?? view} rows={settledRows} />
          <SlicesPanel table={table} view={settledView ?? view} />
        </aside>
      </div>
    </div>
  );
}
