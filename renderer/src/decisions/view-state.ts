import { Filters, type SortKey } from '../../../core/analysis/decisions.ts';

/**
 * The decision view's whole state, kept in the URL hash, so a view is a link a notebook cell can
 * open and a colleague can reproduce: runs, chosen columns, filters, sort and the selected pair.
 */
export interface DecisionViewState {
  runs: string[];
  columns: string[];
  filters: Filters;
  sort: SortKey;
  desc: boolean;
  selected?: string;
  /** the two columns the rationale diff and transition matrix compare */
  compare?: [string, string];
  /** the matrix (default) or the run's metrics */
  tab?: 'matrix' | 'metrics' | 'stage1';
}

export function encodeView(v: DecisionViewState): string {
  const p = new URLSearchParams();
  p.set('view', 'decisions');
  p.set('runs', v.runs.join(','));
  if (v.columns.length) p.set('cols', v.columns.join(','));
  if (Object.keys(v.filters).length) p.set('f', JSON.stringify(v.filters));
  if (v.sort.by !== 'table') p.set('sort', JSON.stringify(v.sort));
  if (v.desc) p.set('desc', '1');
  if (v.selected) p.set('sel', v.selected);
  if (v.compare) p.set('cmp', v.compare.join(','));
  if (v.tab && v.tab !== 'matrix') p.set('tab', v.tab);
  return p.toString();
}

/** The view a hash names, or undefined when it names none; a malformed filter is dropped, not fatal. */
export function decodeView(hash: string): DecisionViewState | undefined {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  if (p.get('view') !== 'decisions' || !p.get('runs')) return undefined;
  const json = <T,>(s: string | null, fallback: T): T => {
    try {
      return s ? (JSON.parse(s) as T) : fallback;
    } catch {
      return fallback;
    }
  };
  const f = Filters.safeParse(json(p.get('f'), {}));
  const cmp = p.get('cmp')?.split(',');
  return {
    runs: p.get('runs')!.split(','),
    columns: p.get('cols')?.split(',').filter(Boolean) ?? [],
    filters: f.success ? f.data : {},
    sort: json<SortKey>(p.get('sort'), { by: 'table' }),
    desc: p.get('desc') === '1',
    ...(p.get('sel') ? { selected: p.get('sel')! } : {}),
    ...(cmp?.length === 2 ? { compare: [cmp[0], cmp[1]] as [string, string] } : {}),
    ...(p.get('tab') === 'metrics' || p.get('tab') === 'stage1' ? { tab: p.get('tab') as 'metrics' | 'stage1' } : {}),
  };
}

/** The two columns the change filters, the transition matrix and the slice gaps compare: the chosen pair, else the first two (or the first twice). */
export function comparedColumns(v: DecisionViewState): [string, string] {
  return v.compare ?? [v.columns[0], v.columns[1] ?? v.columns[0]];
}
