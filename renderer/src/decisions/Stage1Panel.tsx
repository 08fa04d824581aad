import { useEffect, useMemo, useState } from 'react';
import type { ResultOf } from '../../../core/app/contract.ts';
import { TableOutput } from '../outputs/TableOutput.tsx';
import { loadSelection } from './usecases.ts';

type Rec = ResultOf<'runs.selection'>['records'][number];

/**
 * Stage 1 of a run: for each training pair what IM, CI and MS said, whether it was kept and why;
 * the reasons counted, and the grade mix of the kept set against all training pairs.
 */
export function Stage1Panel({ run }: { run: string }) {
  const [records, setRecords] = useState<Rec[]>();
  const [error, setError] = useState<string>();
  const [only, setOnly] = useState<'all' | 'kept' | 'dropped'>('all');
  useEffect(() => {
    loadSelection(run).then((r) => setRecords(r.records), (e: Error) => setError(e.message));
  }, [run]);
  const summary = useMemo(() => {
    if (!records) return undefined;
    const kept = records.filter((r) => r.kept);
    const reasons = new Map<string, number>();
    for (const r of records) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    const mixOf = (key: (r: Rec) => string | undefined) => {
      const values = [...new Set(records.map(key).filter((v): v is string => v !== undefined))];
      const share = (xs: Rec[], v: string) => (xs.length ? +((100 * xs.filter((r) => key(r) === v).length) / xs.length).toFixed(1) : 0);
      return values.map((v) => [v, records.filter((r) => key(r) === v).length, share(records, v), kept.filter((r) => key(r) === v).length, share(kept, v)]);
    };
    return {
      kept: kept.length,
      reasons: [...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => [reason, n]),
      mix: mixOf((r) => r.gold),
      bands: mixOf((r) => r.band),
    };
  }, [records]);
  if (error) return <div className="empty muted">{error}</div>;
  if (!records || !summary) return <div className="empty muted">Reading selection.jsonl…</div>;
  const shown = records.filter((r) => only === 'all' || (only === 'kept') === r.kept);
  return (
    <div className="metrics-panel" data-testid="stage1-panel">
      <div className="decisions-head">
        <b>{run}</b>
        <span data-testid="stage1-kept">
          kept {summary.kept} of {records.length} training pairs
        </span>
        <select aria-label="Show" value={only} onChange={(e) => setOnly(e.target.value as typeof only)}>
          <option value="all">all pairs</option>
          <option value="kept">kept</option>
          <option value="dropped">dropped</option>
        </select>
      </div>
      <div className="runs-body">
        <div className="stage1-summary">
          <TableOutput data={{ title: 'Why', columns: ['reason', 'pairs'], rows: summary.reasons }} />
          <TableOutput data={{ title: 'Grade mix: all training pairs vs the kept set', columns: ['grade', 'all', 'all %', 'kept', 'kept %'], rows: summary.mix }} />
          {summary.bands.length > 0 ? (
            <TableOutput data={{ title: 'Query band mix', columns: ['band', 'all', 'all %', 'kept', 'kept %'], rows: summary.bands }} />
          ) : (
            <p className="muted">This run's selection.jsonl has no query bands (runs made before bands were recorded).</p>
          )}
        </div>
        <TableOutput
          data={{
            title: `${shown.length} pairs (IM: is it hard; CI: is it learnable; MS: is the label likely wrong)`,
            columns: ['pair_id', 'query', 'product', 'gold', 'band', 'IM', 'CI', 'MS', 'IM p(gold)', 'fold', 'kept', 'reason'],
            rows: shown.map((r) => [r.pair_id, r.query ?? '', r.title ?? '', r.gold, r.band ?? '', r.im ?? '', r.ci ?? '', r.ms ?? '', r.im_p_gold ?? null, r.fold ?? null, r.kept ? 'yes' : 'no', r.reason]),
          }}
        />
      </div>
    </div>
  );
}
