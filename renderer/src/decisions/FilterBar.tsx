import { useMemo } from 'react';
import { changeCounts, toggleCounts, TOGGLES, type DecisionTable, type Filters } from '../../../core/analysis/decisions.ts';
import { updateView } from './usecases.ts';
import { comparedColumns, type DecisionViewState } from './view-state.ts';

const TOGGLE_LABEL: Record<(typeof TOGGLES)[number], string> = { errors: 'Errors', different: 'Different', offBy2: 'Off by ≥2', optimistic: 'Optimistic' };
const CHANGE_LABEL = { any: 'changed', fixed: 'fixed', broken: 'broken', up: 'moved up', down: 'moved down' } as const;

/**
 * Every filter with the row count it would give, combined with the others as they are. The buttons
 * follow `view`; the counts follow `countsFor`, the view of the last settled render (see DecisionsView).
 */
export function FilterBar({ table, view, countsFor }: { table: DecisionTable; view: DecisionViewState; countsFor: DecisionViewState }) {
  const f = view.filters;
  const set = (change: Partial<Filters>) => {
    const next: Filters = { ...f, ...change };
    for (const k of Object.keys(next) as (keyof Filters)[]) if (next[k] === undefined || next[k] === false || (Array.isArray(next[k]) && !(next[k] as unknown[]).length) || next[k] === '') delete next[k];
    updateView({ filters: next });
  };
  const cmp = comparedColumns(view);
  const { counts, changes, searchError } = useMemo(() => {
    const [from, to] = comparedColumns(countsFor);
    try {
      const counts = toggleCounts(table, countsFor.columns, countsFor.filters);
      const changes = from && to ? changeCounts(table, countsFor.columns, { ...countsFor.filters, changed: undefined }, from, to) : undefined;
      return { counts, changes, searchError: undefined };
    } catch (e) {
      return { counts: undefined, changes: undefined, searchError: (e as Error).message };
    }
  }, [table, countsFor]);
  const bands = useMemo(() => [...new Set(table.rows.map((r) => r.band).filter(Boolean))] as string[], [table]);
  const intents = useMemo(() => [...new Set(table.rows.map((r) => r.intent).filter(Boolean))] as string[], [table]);
  const columnName = (id: string) => table.columns.find((c) => c.id === id)?.variant ?? id;
  return (
    <div className="filter-bar" role="toolbar" aria-label="Filters">
      <button className={`filter ${!TOGGLES.some((k) => f[k]) ? 'on' : ''}`} onClick={() => set({ errors: false, different: false, offBy2: false, optimistic: false })}>
        All <span className="count">{counts?.all ?? '–'}</span>
      </button>
      {TOGGLES.map((k) => (
        <button key={k} className={`filter ${f[k] ? 'on' : ''}`} data-filter={k} aria-pressed={Boolean(f[k])} onClick={() => set({ [k]: !f[k] })}>
          {TOGGLE_LABEL[k]} <span className="count">{counts?.[k] ?? '–'}</span>
        </button>
      ))}
      <span className="sep" />
      <label className="inline">
        <select aria-label="Compare from" value={cmp[0]} onChange={(e) => updateView({ compare: [e.target.value, cmp[1]], filters: f.changed ? { ...f, changed: { ...f.changed, from: e.target.value } } : f })}>
          {view.columns.map((c) => (
            <option key={c} value={c}>
              {columnName(c)}
            </option>
          ))}
        </select>
        →
        <select aria-label="Compare to" value={cmp[1]} onChange={(e) => updateView({ compare: [cmp[0], e.target.value], filters: f.changed ? { ...f, changed: { ...f.changed, to: e.target.value } } : f })}>
          {view.columns.map((c) => (
            <option key={c} value={c}>
              {columnName(c)}
            </option>
          ))}
        </select>
      </label>
      {changes &&
        (Object.keys(CHANGE_LABEL) as (keyof typeof CHANGE_LABEL)[]).map((kind) => {
          const on = f.changed?.kind === kind && f.changed.from === cmp[0] && f.changed.to === cmp[1];
          return (
            <button key={kind} className={`filter ${on ? 'on' : ''}`} data-filter={`changed-${kind}`} aria-pressed={on} onClick={() => set({ changed: on ? undefined : { from: cmp[0], to: cmp[1], kind } })}>
              {CHANGE_LABEL[kind]} <span className="count">{changes[kind]}</span>
            </button>
          );
        })}
      <span className="sep" />
      <select aria-label="Gold grade" value={f.gold?.[0] ?? ''} onChange={(e) => set({ gold: e.target.value ? [e.target.value] : undefined })}>
        <option value="">gold: any</option>
        {table.labels.map((l) => (
          <option key={l}>{l}</option>
        ))}
      </select>
      {bands.length > 0 && (
        <select aria-label="Query band" value={f.band?.[0] ?? ''} onChange={(e) => set({ band: e.target.value ? [e.target.value] : undefined })}>
          <option value="">band: any</option>
          {bands.map((b) => (
            <option key={b}>{b}</option>
          ))}
        </select>
      )}
      {intents.length > 0 && (
        <select aria-label="Intent" value={f.intent?.[0] ?? ''} onChange={(e) => set({ intent: e.target.value ? [e.target.value] : undefined })}>
          <option value="">intent: any</option>
          {intents.map((b) => (
            <option key={b}>{b}</option>
          ))}
        </select>
      )}
      <input aria-label="Search" placeholder="search query or product" value={f.search ?? ''} onChange={(e) => set({ search: e.target.value || undefined })} className={searchError ? 'invalid' : ''} title={searchError} />
      <label className="inline">
        <input type="checkbox" checked={Boolean(f.regex)} onChange={(e) => set({ regex: e.target.checked })} /> regex
      </label>
      {(f.pred || f.pred2) && (
        <button className="filter on" onClick={() => set({ pred: undefined, pred2: undefined, gold: undefined })} title="clear the matrix-cell filter">
          cell: {[...(f.gold ? [`gold=${f.gold.join('|')}`] : []), ...[f.pred, f.pred2].filter(Boolean).map((p) => `${columnName(p!.column)}=${p!.labels.join('|')}`)].join(', ')} ✕
        </button>
      )}
      {searchError && <span className="invalid-text">bad regex</span>}
    </div>
  );
}
