import { useMemo, useState } from 'react';

/** application/vnd.lref.table+json: sortable by any column (click a header; again to reverse). */
export interface TableData {
  columns: string[];
  rows: unknown[][];
  title?: string;
}

const PAGE = 200;

export function TableOutput({ data }: { data: TableData }) {
  const [sort, setSort] = useState<{ col: number; dir: 1 | -1 } | undefined>();
  const [shown, setShown] = useState(PAGE);
  const rows = useMemo(() => {
    if (!sort) return data.rows;
    return [...data.rows].sort((a, b) => sort.dir * compare(a[sort.col], b[sort.col]));
  }, [data.rows, sort]);
  const numeric = data.columns.map((_, c) => data.rows.length > 0 && data.rows.every((r) => typeof r[c] === 'number' || r[c] == null));
  return (
    <div className="table-output">
      {data.title && <div className="table-title">{data.title}</div>}
      <table>
        <thead>
          <tr>
            {data.columns.map((c, i) => (
              <th key={i} className={numeric[i] ? 'num' : ''} onClick={() => setSort((s) => (s?.col === i ? { col: i, dir: s.dir === 1 ? -1 : 1 } : { col: i, dir: numeric[i] ? -1 : 1 }))} title="sort">
                {c}
                <span className="sort-mark">{sort?.col === i ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, shown).map((r, i) => (
            <tr key={i}>
              {r.map((v, j) => (
                <td key={j} className={numeric[j] ? 'num' : ''}>
                  {cell(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > shown && (
        <button className="more" onClick={() => setShown((n) => n + PAGE * 5)}>
          show more ({rows.length - shown} of {rows.length} rows hidden)
        </button>
      )}
    </div>
  );
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a == null) return b == null ? 0 : -1;
  if (b == null) return 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  // at most 4 decimals, trailing zeros dropped: 48.94, not 48.9400
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
