import { GradeChip } from './GradeChip.tsx';

/** A predicted grade as a cell shows it: a grade, an output with no grade in it, or no answer at all. */
export type Prediction = string | { unparseable: true } | undefined;

export interface PairsTableRow {
  key: string | number;
  query: string;
  title: string;
  gold?: string;
  preds: Prediction[];
  /** shown on hover (a rationale) */
  hint?: string;
}

/** Query, product, gold and one predicted grade per column: a notebook's pairs output and `display.decisions` preview. */
export function PairsTable({ columns, labels, rows }: { columns: string[]; labels: readonly string[]; rows: PairsTableRow[] }) {
  return (
    <div className="table-output">
      <table className="pairs">
        <thead>
          <tr>
            <th>query</th>
            <th>product</th>
            <th>gold</th>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} title={r.hint}>
              <td>{r.query}</td>
              <td>{r.title}</td>
              <td>{r.gold !== undefined && <GradeChip label={r.gold} labels={labels} />}</td>
              {r.preds.map((p, i) => (
                <td key={i}>
                  {p === undefined ? <span className="muted">–</span> : typeof p === 'object' ? <span className="unparseable">unparseable</span> : <GradeChip label={p} labels={labels} wrong={r.gold !== undefined && r.gold !== p} />}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
