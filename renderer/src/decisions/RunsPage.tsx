import { useEffect, useState } from 'react';
import type { ResultOf } from '../../../core/app/contract.ts';
import { toast } from '../state/store.ts';
import { core } from '../usecases.ts';
import { openDecisions } from './usecases.ts';

type Catalog = ResultOf<'runs.catalog'>;
interface Change {
  path: string;
  a: unknown;
  b: unknown;
}
interface VariantDiff {
  name: string;
  a?: Record<string, number>;
  b?: Record<string, number>;
  delta?: Record<string, number>;
}

const pct = (x: number | undefined) => (x === undefined ? '–' : (100 * x).toFixed(1));

/** Every run of the workspace with its headline figures; pick two for their config and metric diff, or open them side by side. */
export function RunsPage() {
  const [catalog, setCatalog] = useState<Catalog>();
  const [picked, setPicked] = useState<string[]>([]);
  const [diff, setDiff] = useState<{ config: Change[]; run: Change[]; variants: VariantDiff[]; sameTestPairs: boolean }>();
  useEffect(() => {
    core()
      .call('runs.catalog', {})
      .then(setCatalog, (e: Error) => toast(`Cannot list runs: ${e.message}`, 'error'));
  }, []);
  useEffect(() => {
    setDiff(undefined);
    if (picked.length !== 2) return;
    core()
      .call('runs.diff', { a: picked[0], b: picked[1] })
      .then((d) => setDiff(d as never), (e: Error) => toast(`Cannot diff: ${e.message}`, 'error'));
  }, [picked]);
  if (!catalog) return <div className="empty muted">Reading runs…</div>;
  const toggle = (p: string) => setPicked((xs) => (xs.includes(p) ? xs.filter((x) => x !== p) : [...xs, p].slice(-2)));
  return (
    <div className="runs-page" data-testid="runs-page">
      <div className="decisions-head">
        <b>Runs</b>
        <span className="muted">{catalog.runs.length} finished{catalog.broken.length ? `, ${catalog.broken.length} unreadable` : ''} · pick two to compare</span>
        <span className="spacer" />
        <button disabled={!picked.length} onClick={() => void openDecisions({ runs: picked, filters: {}, sort: { by: 'table' }, desc: false })}>
          Open decisions {picked.length === 2 ? 'side by side' : ''}
        </button>
      </div>
      <div className="runs-body">
        <table className="runs-table">
          <thead>
            <tr>
              <th />
              <th>run</th>
              <th>created</th>
              <th>preset</th>
              <th>data</th>
              <th>seed</th>
              <th>backend</th>
              <th>best macro-F1 (test)</th>
            </tr>
          </thead>
          <tbody>
            {catalog.runs.map((r) => {
              const best = [...r.variants].sort((a, b) => b.macro_f1 - a.macro_f1)[0];
              return (
                <tr key={r.path} className={picked.includes(r.path) ? 'picked' : ''} onClick={() => toggle(r.path)} data-run={r.path}>
                  <td>
                    <input type="checkbox" readOnly checked={picked.includes(r.path)} aria-label={`pick ${r.path}`} />
                  </td>
                  <td title={r.id}>{r.path}</td>
                  <td>{r.created.replace('T', ' ').slice(0, 16)}</td>
                  <td>{r.preset ?? ''}</td>
                  <td>
                    {r.data.source} · {r.data.pairs} pairs ({r.data.test} test) · {r.data.scheme}
                  </td>
                  <td>{r.seed}</td>
                  <td>{r.backend}</td>
                  <td>{best ? `${best.name} ${pct(best.macro_f1)}` : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {catalog.broken.map((b) => (
          <div key={b.path} className="output-error">
            {b.path}: {b.error}
          </div>
        ))}
        {diff && (
          <div className="run-diff" data-testid="run-diff">
            <h3>
              {picked[0]} → {picked[1]}
            </h3>
            {!diff.sameTestPairs && <div className="banner warn">The runs were measured on different test pairs: their figures do not compare pair for pair.</div>}
            <table className="runs-table">
              <thead>
                <tr>
                  <th>variant</th>
                  <th>macro-F1 a → b (Δ)</th>
                  <th>accuracy a → b (Δ)</th>
                  <th>optimistic share a → b (Δ)</th>
                  <th>unparseable a → b</th>
                </tr>
              </thead>
              <tbody>
                {diff.variants.map((v) => (
                  <tr key={v.name}>
                    <td>{v.name}</td>
                    {(['macro_f1', 'accuracy', 'optimistic_error_share'] as const).map((k) => (
                      <td key={k}>
                        {pct(v.a?.[k])} → {pct(v.b?.[k])} {v.delta ? <Delta d={v.delta[k]} better={k === 'optimistic_error_share' ? -1 : 1} /> : ''}
                      </td>
                    ))}
                    <td>
                      {v.a?.unparseable ?? '–'} → {v.b?.unparseable ?? '–'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h4>What differs</h4>
            <table className="runs-table">
              <tbody>
                {[...diff.run, ...diff.config].map((c) => (
                  <tr key={c.path}>
                    <td>{c.path}</td>
                    <td className="del">{JSON.stringify(c.a) ?? '(unset)'}</td>
                    <td className="ins">{JSON.stringify(c.b) ?? '(unset)'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}

function Delta({ d, better }: { d: number; better: 1 | -1 }) {
  if (Math.abs(d) < 1e-9) return <span className="muted">(0)</span>;
  const good = d * better > 0;
  return <span className={good ? 'delta-good' : 'delta-bad'}>({d > 0 ? '+' : ''}{(100 * d).toFixed(1)})</span>;
}
