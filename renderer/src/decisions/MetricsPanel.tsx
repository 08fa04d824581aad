import { lazy, Suspense, useEffect, useState } from 'react';
import type { MetricsRecord } from '../../../core/eval/metrics.ts';
import { groupedBars, metricsRows } from '../../../core/kernel/report.ts';
import { TableOutput } from '../outputs/TableOutput.tsx';
import { loadRun } from './usecases.ts';

const VegaOutput = lazy(() => import('../outputs/VegaOutput.tsx').then((m) => ({ default: m.VegaOutput })));

/** The run's ablation table (test or valid), per-class figures of one variant, and a chart of the headline figures. */
export function MetricsPanel({ run }: { run: string }) {
  const [metrics, setMetrics] = useState<{ test: MetricsRecord[]; valid: MetricsRecord[] }>();
  const [split, setSplit] = useState<'test' | 'valid'>('test');
  const [variant, setVariant] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    loadRun(run).then(
      (r) => {
        const m = r.metrics as { variants?: MetricsRecord[]; valid_variants?: MetricsRecord[] } | null;
        const test = (m?.variants ?? []).filter((v) => v.per_class !== undefined);
        if (!test.length) return setError('this run has no metrics.json in the pipeline format');
        setMetrics({ test, valid: m?.valid_variants ?? [] });
      },
      (e: Error) => setError(e.message),
    );
  }, [run]);
  if (error) return <div className="empty muted">{error}</div>;
  if (!metrics) return <div className="empty muted">Reading metrics…</div>;
  const records = split === 'valid' && metrics.valid.length ? metrics.valid : metrics.test;
  const rows = metricsRows(records);
  const chosen = records.find((r) => r.name === variant) ?? records[0];
  const perClass = Object.entries(chosen.per_class).map(([grade, p]) => ({ grade, precision: +(100 * p.precision).toFixed(1), recall: +(100 * p.recall).toFixed(1), f1: +(100 * p.f1).toFixed(1), support: p.support }));
  return (
    <div className="metrics-panel" data-testid="metrics-panel">
      <div className="decisions-head">
        <b>{run}</b>
        <label className="inline">
          split
          <select aria-label="Split" value={split} onChange={(e) => setSplit(e.target.value as 'test' | 'valid')}>
            <option value="test">test (report these)</option>
            <option value="valid" disabled={!metrics.valid.length}>
              valid (choose on these){metrics.valid.length ? '' : ': not in this run'}
            </option>
          </select>
        </label>
      </div>
      <div className="runs-body">
        <TableOutput data={{ columns: Object.keys(rows[0]), rows: rows.map((r) => Object.values(r)), title: `Every variant on the ${split} split (percent; unparseable is a count)` }} />
        <Suspense fallback={<pre className="muted">chart…</pre>}>
          <VegaOutput spec={groupedBars(rows, { x: 'variant', measures: ['macro_f1', 'accuracy', 'optimistic_error_share'], title: `${run}: ${split}`, yTitle: 'percent', domain: [0, 100] })} />
        </Suspense>
        <div className="decisions-head">
          Per grade for
          <select aria-label="Variant" value={chosen.name} onChange={(e) => setVariant(e.target.value)}>
            {records.map((r) => (
              <option key={r.name}>{r.name}</option>
            ))}
          </select>
        </div>
        <TableOutput data={{ columns: ['grade', 'precision', 'recall', 'f1', 'support'], rows: perClass.map((r) => Object.values(r)) }} />
      </div>
    </div>
  );
}
