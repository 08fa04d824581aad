import { useEffect, useMemo, useState } from 'react';
import { filterRows, Filters, MISSING, UNPARSEABLE, type DecisionTable } from '../../../core/analysis/decisions.ts';
import { useApp } from '../state/store.ts';
import { PairsTable } from '../outputs/PairsTable.tsx';
import { loadTable, openDecisions } from './usecases.ts';

const SHOWN = 12;

/** `display.decisions(…)` in a cell: the first filtered pairs, live from the run folders, and a link to the whole view. */
export function DecisionsOutput({ data }: { data: { runs: string[]; columns?: string[]; filters?: unknown } }) {
  const root = useApp((s) => s.info?.workspace);
  const [table, setTable] = useState<DecisionTable>();
  const [error, setError] = useState<string>();
  const runs = useMemo(() => (root ? data.runs.map((r) => (r.startsWith(root + '/') ? r.slice(root.length + 1) : r)) : []), [root, data.runs]);
  const filters = Filters.safeParse(data.filters ?? {});
  useEffect(() => {
    if (!runs.length) return;
    if (runs.some((r) => r.startsWith('/'))) return setError(`outside the workspace: ${runs.filter((r) => r.startsWith('/')).join(', ')}`);
    loadTable(runs).then(setTable, (e: Error) => setError(e.message));
  }, [runs]);
  if (error) return <pre className="output-error">display.decisions: {error}</pre>;
  if (!table) return <pre className="result muted">loading the decisions of {runs.join(', ')}…</pre>;
  const columns = data.columns?.length ? data.columns.filter((c) => table.columns.some((t) => t.id === c)) : table.columns.map((c) => c.id);
  const rows = filterRows(table, columns, filters.success ? filters.data : {});
  const cols = columns.map((id) => table.columns.find((c) => c.id === id)!);
  const open = () => void openDecisions({ runs, columns, filters: filters.success ? filters.data : {}, sort: { by: 'table' }, desc: false });
  return (
    <div className="decisions-output" data-testid="decisions-output">
      <div>
        <b>{rows.length}</b> of {table.rows.length} pairs · {runs.join(' + ')}{' '}
        <button className="link" onClick={open}>
          open in workbench ↗
        </button>
      </div>
      <PairsTable
        columns={cols.map((c) => (runs.length > 1 ? c.id : c.variant))}
        labels={table.labels}
        rows={Array.from(rows.slice(0, SHOWN), (i) => ({
          key: i,
          query: table.rows[i].query,
          title: table.rows[i].title,
          gold: table.gold[i] >= 0 ? table.labels[table.gold[i]] : undefined,
          preds: cols.map((c) => (c.pred[i] === MISSING ? undefined : c.pred[i] === UNPARSEABLE ? { unparseable: true as const } : table.labels[c.pred[i]])),
        }))}
      />
      {rows.length > SHOWN && <div className="muted">… {rows.length - SHOWN} more in the workbench view</div>}
    </div>
  );
}
