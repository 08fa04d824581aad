import { memo, useEffect, useMemo, useState } from 'react';
import type { DecisionTable } from '../../../core/analysis/decisions.ts';
import { filterRows } from '../../../core/analysis/decisions.ts';
import { builtinSlices, figures, sliceGaps, type Slice } from '../../../core/analysis/slices.ts';
import { toast } from '../state/store.ts';
import { core } from '../usecases.ts';
import { updateView } from './usecases.ts';
import { comparedColumns, type DecisionViewState } from './view-state.ts';

const pct = (x: number) => (100 * x).toFixed(0);

/** Saved slices and the slices where the two compared variants differ most; a click applies a slice. */
export const SlicesPanel = memo(function SlicesPanel({ table, view }: { table: DecisionTable; view: DecisionViewState }) {
  const [saved, setSaved] = useState<Slice[]>([]);
  const [name, setName] = useState('');
  useEffect(() => {
    core()
      .call('slices.list', {})
      .then((r) => setSaved(r.slices), () => undefined);
  }, []);
  const [a, b] = comparedColumns(view);
  const variant = (id: string) => table.columns.find((c) => c.id === id)?.variant ?? id;
  // Slices do not depend on the view's filters: recomputed only when the compared pair or the slices change.
  const gaps = useMemo(() => {
    try {
      return a && b && a !== b ? sliceGaps(table, a, b, [...saved, ...builtinSlices(table)]).slice(0, 8) : [];
    } catch {
      return [];
    }
  }, [table, a, b, saved]);
  // Each saved slice's accuracy (and size) for every chosen column.
  const perSlice = useMemo(
    () =>
      saved.map((sl) => {
        try {
          const rows = filterRows(table, view.columns, sl.filters);
          return { slice: sl, cells: view.columns.map((c) => figures(table, c, rows)) };
        } catch {
          return { slice: sl, cells: [] };
        }
      }),
    [table, view.columns, saved],
  );
  const save = async () => {
    const n = name.trim();
    if (!n) return;
    try {
      const r = await core().call('slices.save', { name: n, filters: view.filters });
      setSaved(r.slices);
      setName('');
    } catch (e) {
      toast(`Cannot save the slice: ${(e as Error).message}`, 'error');
    }
  };
  return (
    <div className="slices" data-testid="slices">
      <div className="matrix-title">Slices</div>
      <form
        className="slice-save"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input aria-label="Slice name" placeholder="save the current filters as…" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={!name.trim()}>
          Save
        </button>
      </form>
      {saved.map((s) => (
        <div key={s.name} className="slice-row">
          <button className="link" onClick={() => updateView({ filters: s.filters })} title={JSON.stringify(s.filters)}>
            {s.name}
          </button>
          <button className="link muted" title="delete the slice" onClick={() => void core().call('slices.delete', { name: s.name }).then((r) => setSaved(r.slices))}>
            ✕
          </button>
        </div>
      ))}
      {perSlice.length > 0 && (
        <table className="gaps" data-testid="slice-figures">
          <thead>
            <tr>
              <th>slice</th>
              {view.columns.map((c) => (
                <th key={c}>{variant(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {perSlice.map(({ slice, cells }) => (
              <tr key={slice.name} onClick={() => updateView({ filters: slice.filters })}>
                <td className="link">{slice.name}</td>
                {cells.map((f, i) => (
                  <td key={i} title={`macro-F1 ${pct(f.macro_f1)}%, ${f.n} pairs`}>
                    {pct(f.accuracy)}% <span className="muted">({f.n})</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {gaps.length > 0 && (
        <>
          <div className="matrix-title">
            Where {variant(a)} and {variant(b)} differ most (accuracy)
          </div>
          <table className="gaps" data-testid="slice-gaps">
            <tbody>
              {gaps.map((g) => (
                <tr key={g.slice.name} onClick={() => updateView({ filters: g.slice.filters })}>
                  <td className="link">{g.slice.name}</td>
                  <td className="muted">{g.n}</td>
                  <td>
                    {pct(g.a.accuracy)}% → {pct(g.b.accuracy)}%
                  </td>
                  <td className={g.delta > 0 ? 'delta-good' : g.delta < 0 ? 'delta-bad' : 'muted'}>
                    {g.delta > 0 ? '+' : ''}
                    {pct(g.delta)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
});
