import { memo, useMemo } from 'react';
import { confusion, transition, type DecisionTable } from '../../../core/analysis/decisions.ts';
import { updateView } from './usecases.ts';
import { comparedColumns, type DecisionViewState } from './view-state.ts';

/** A confusion matrix (gold × a column) and a transition matrix (column → column); a click filters the grid to that cell. */
export const Matrices = memo(function Matrices({ table, view, rows }: { table: DecisionTable; view: DecisionViewState; rows: Int32Array }) {
  const [from, to] = comparedColumns(view);
  const conf = useMemo(() => (to ? confusion(table, to, rows) : []), [table, to, rows]);
  const tr = useMemo(() => (from && to ? transition(table, from, to, rows) : []), [table, from, to, rows]);
  if (!from || !to) return null;
  const names = [...table.labels, 'unparseable'];
  const variant = (id: string) => table.columns.find((c) => c.id === id)?.variant ?? id;
  const clear = { ...view.filters, gold: undefined, pred: undefined, pred2: undefined, changed: undefined };
  return (
    <div className="matrices">
      <Grid
        title={`Confusion: ${variant(to)}`}
        testId="confusion"
        rowsLabel="gold"
        colsLabel="predicted"
        rowNames={table.labels}
        colNames={names}
        m={conf}
        onCell={(g, p) => updateView({ filters: { ...clear, gold: [table.labels[g]], pred: { column: to, labels: [names[p]] } } })}
      />
      {from !== to && (
        <Grid
          title={`Transition: ${variant(from)} → ${variant(to)}`}
          testId="transition"
          rowsLabel={variant(from)}
          colsLabel={variant(to)}
          rowNames={names}
          colNames={names}
          m={tr}
          onCell={(a, b) => updateView({ filters: { ...clear, pred: { column: from, labels: [names[a]] }, pred2: { column: to, labels: [names[b]] } } })}
        />
      )}
    </div>
  );
});

function Grid(props: { title: string; testId: string; rowsLabel: string; colsLabel: string; rowNames: string[]; colNames: string[]; m: number[][]; onCell(r: number, c: number): void }) {
  const max = Math.max(1, ...props.m.flat());
  const short = (s: string) => (s === 'unparseable' ? '∅' : s.slice(0, 4));
  return (
    <div className="matrix">
      <div className="matrix-title">{props.title}</div>
      <table data-testid={props.testId}>
        <thead>
          <tr>
            <th className="muted" title={`${props.rowsLabel} ↓ / ${props.colsLabel} →`}>
              ↓{props.rowsLabel.slice(0, 8)}
            </th>
            {props.colNames.map((c) => (
              <th key={c} title={c}>
                {short(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.m.map((row, r) => (
            <tr key={r}>
              <th title={props.rowNames[r]}>{short(props.rowNames[r])}</th>
              {row.map((n, c) => (
                <td
                  key={c}
                  data-r={r}
                  data-c={c}
                  className={n ? 'clickable' : 'zero'}
                  style={{ background: n ? `rgba(${r === c ? '26,127,55' : '192,57,43'},${(0.1 + (0.65 * n) / max).toFixed(3)})` : undefined }}
                  onClick={() => n && props.onCell(r, c)}
                  title={`${props.rowNames[r]} → ${props.colNames[c]}: ${n}`}
                >
                  {n || ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
