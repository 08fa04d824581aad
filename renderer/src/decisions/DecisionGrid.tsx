import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import { MISSING, UNPARSEABLE, type DecisionTable } from '../../../core/analysis/decisions.ts';
import { figures } from '../../../core/analysis/slices.ts';
import { GradeChip } from '../outputs/GradeChip.tsx';
import { useDecisions } from './store.ts';
import { markPair, openPair, updateView } from './usecases.ts';
import type { DecisionViewState } from './view-state.ts';

const ROW = 34;
const HEADER = 40;

/**
 * The decision matrix as an ARIA grid, virtualised (only the visible rows are in the DOM, so 100K
 * rows scroll). Keyboard: ↑/↓ move, Enter opens the pair, 1–5 set a human grade on it.
 */
/** `accuracyRows`: the rows the header's accuracies describe (the settled ones, which may lag `rows` by a frame). */
export function DecisionGrid({ table, view, rows, accuracyRows }: { table: DecisionTable; view: DecisionViewState; rows: Int32Array; accuracyRows: Int32Array }) {
  const scroller = useRef<HTMLDivElement>(null);
  const marks = useDecisions((s) => s.marks);
  const cols = view.columns.map((id) => table.columns.find((c) => c.id === id)!).filter(Boolean);
  // The header scrolls sideways with the rows and sticks on top: it sits in the scroller, above the rows.
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12, paddingStart: HEADER, scrollPaddingStart: HEADER });
  const active = view.selected ? rows.findIndex((i) => table.rows[i].pair_id === view.selected) : -1;

  useEffect(() => {
    if (active >= 0) virtual.scrollToIndex(active, { align: 'auto' });
  }, [active, virtual]);

  const onKey = (e: React.KeyboardEvent) => {
    const move = (to: number) => {
      e.preventDefault();
      const i = Math.max(0, Math.min(rows.length - 1, to));
      if (rows.length) updateView({ selected: table.rows[rows[i]].pair_id });
    };
    if (e.key === 'ArrowDown') move(active + 1);
    else if (e.key === 'ArrowUp') move(active - 1);
    else if (e.key === 'PageDown') move(active + 20);
    else if (e.key === 'PageUp') move(active - 20);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(rows.length - 1);
    else if (e.key === 'Enter' && view.selected) {
      e.preventDefault();
      void openPair(view.selected);
    } else if (/^[1-9]$/.test(e.key) && view.selected && Number(e.key) <= table.labels.length && view.runs.length === 1) {
      e.preventDefault();
      void markPair(view.selected, { label: table.labels[Number(e.key) - 1] });
    }
  };

  const sortBy = (by: DecisionViewState['sort']) => updateView({ sort: by, desc: JSON.stringify(by) === JSON.stringify(view.sort) ? !view.desc : false });
  const template = `56px minmax(180px,1.2fr) minmax(200px,1.6fr) 96px 60px ${cols.map(() => '112px').join(' ')} 92px`;
  const minWidth = 56 + 180 + 200 + 96 + 60 + cols.length * 112 + 92;
  return (
    <div className="decision-grid" role="grid" aria-rowcount={rows.length + 1} aria-colcount={cols.length + 6} tabIndex={0} onKeyDown={onKey} data-testid="decision-grid" data-rows={rows.length}>
      <div className="grid-body" ref={scroller}>
        <div className="grid-row header" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, minWidth }}>
          <div role="columnheader" onClick={() => sortBy({ by: 'table' })}>#</div>
          <div role="columnheader">query</div>
          <div role="columnheader">product</div>
          <div role="columnheader" onClick={() => sortBy({ by: 'gold' })} className="sortable">
            gold
          </div>
          <div role="columnheader">band</div>
          {cols.map((c) => (
            <div key={c.id} role="columnheader" className="sortable" title={`${c.id} — click to sort`} onClick={() => sortBy({ by: 'column', column: c.id })}>
              {c.variant}
              <Accuracy table={table} column={c.id} rows={accuracyRows} />
            </div>
          ))}
          <div role="columnheader" className="sortable" onClick={() => sortBy({ by: 'disagreement' })} title="sort by disagreement">
            review
          </div>
        </div>
        <div style={{ height: virtual.getTotalSize() - HEADER, position: 'relative', minWidth }}>
          {virtual.getVirtualItems().map((v) => {
            const i = rows[v.index];
            const r = table.rows[i];
            const g = table.gold[i];
            const mark = marks[r.pair_id];
            return (
              <div
                key={r.pair_id}
                role="row"
                aria-rowindex={v.index + 2}
                aria-selected={v.index === active}
                className={`grid-row ${v.index === active ? 'active' : ''}`}
                style={{ gridTemplateColumns: template, minWidth, transform: `translateY(${v.start - HEADER}px)` }}
                onClick={() => void openPair(r.pair_id)}
                data-pair={r.pair_id}
              >
                <div role="gridcell" className="muted">{v.index + 1}</div>
                <div role="gridcell" title={r.query}>{r.query}</div>
                <div role="gridcell" title={r.title}>{r.title}</div>
                <div role="gridcell">{g >= 0 && <GradeChip label={table.labels[g]} labels={table.labels} />}</div>
                <div role="gridcell" className="muted">{r.band ?? ''}</div>
                {cols.map((c) => {
                  const p = c.pred[i];
                  const prob = c.prob[i];
                  return (
                    <div role="gridcell" key={c.id} className={p >= 0 && p !== g ? (p < g ? 'wrong optimistic' : 'wrong') : ''}>
                      {p === MISSING ? <span className="muted">–</span> : p === UNPARSEABLE ? <span className="unparseable">unparseable</span> : <GradeChip label={table.labels[p]} labels={table.labels} />}
                      {!Number.isNaN(prob) && <span className="prob">{prob.toFixed(2)}</span>}
                    </div>
                  );
                })}
                <div role="gridcell" data-testid="mark-cell">{mark ? (mark.label ? <GradeChip label={mark.label} labels={table.labels} /> : '✎') : ''}</div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

const Accuracy = memo(function Accuracy({ table, column, rows }: { table: DecisionTable; column: string; rows: Int32Array }) {
  const { n, accuracy } = figures(table, column, rows);
  return <span className="col-acc">{n ? `${(100 * accuracy).toFixed(0)}%` : ''}</span>;
});
