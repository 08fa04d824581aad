import type { Output as NbOutput } from '../../../core/kernel/nbformat.ts';
import { LREF5 } from './grades.ts';
import { PairsTable } from './PairsTable.tsx';
import { pickMime, stripAnsi, text } from './mime.ts';
import { markdownHtml, safeHtml } from './sanitize.ts';
import { TableOutput, type TableData } from './TableOutput.tsx';
import { DecisionsOutput } from '../decisions/DecisionsOutput.tsx';
import { lazy, Suspense } from 'react';

// Vega is large and only some notebooks draw charts: loaded on the first chart.
const VegaOutput = lazy(() => import('./VegaOutput.tsx').then((m) => ({ default: m.VegaOutput })));

/** One nbformat output: streams, errors, and MIME bundles drawn by the richest renderer we have. */
export function Output({ output }: { output: NbOutput }) {
  switch (output.output_type) {
    case 'stream':
      return <pre className={`stream ${output.name}`}>{stripAnsi(text(output.text))}</pre>;
    case 'error':
      return (
        <pre className="output-error">
          <b>{output.ename}</b>: {output.evalue}
          {output.traceback.length > 1 ? '\n' + stripAnsi(output.traceback.slice(1).join('\n')) : ''}
        </pre>
      );
    default:
      return <Bundle data={output.data} />;
  }
}

export function Bundle({ data }: { data: Record<string, unknown> }) {
  const mime = pickMime(data);
  const v = mime ? data[mime] : undefined;
  switch (mime) {
    case 'application/vnd.lref.table+json':
      return <TableOutput data={v as TableData} />;
    case 'application/vnd.lref.decisions+json':
      return <DecisionsOutput data={v as { runs: string[]; columns?: string[]; filters?: unknown }} />;
    case 'application/vnd.lref.pairs+json':
      return <PairsOutput data={v as PairsData} />;
    case 'application/vnd.lref.confusion+json':
      return <ConfusionOutput data={v as { labels: string[]; matrix: number[][] }} />;
    case 'application/vnd.lref.progress+json':
      return <ProgressOutput data={v as ProgressData} />;
    case 'application/vnd.vegalite.v5+json':
    case 'application/vnd.vegalite.v4+json':
      return (
        <Suspense fallback={<pre className="result muted">{text(data['text/plain'] ?? 'chart')}</pre>}>
          <VegaOutput spec={v as Record<string, unknown>} />
        </Suspense>
      );
    case 'image/png':
    case 'image/jpeg':
      return <img className="image-output" alt="output" src={`data:${mime};base64,${text(v).replace(/\s/g, '')}`} />;
    case 'image/svg+xml':
    case 'text/html':
      return <div className="html-output" dangerouslySetInnerHTML={{ __html: safeHtml(text(v)) }} />;
    case 'text/markdown':
      return <div className="markdown" dangerouslySetInnerHTML={{ __html: markdownHtml(text(v)) }} />;
    case 'application/json':
      return data['text/plain'] !== undefined ? <pre className="result">{stripAnsi(text(data['text/plain']))}</pre> : <pre className="result">{JSON.stringify(v, null, 2)}</pre>;
    case 'text/plain':
      return <pre className="result">{stripAnsi(text(v))}</pre>;
    default:
      return <pre className="result muted">(an output of type {Object.keys(data).join(', ') || 'nothing'} that this app cannot show)</pre>;
  }
}

interface ProgressData {
  done: number;
  total: number;
  label: string;
  fields: Record<string, string | number>;
}

function ProgressOutput({ data }: { data: ProgressData }) {
  const frac = data.total > 0 ? Math.min(1, data.done / data.total) : 0;
  const fields = Object.entries(data.fields ?? {}).map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`);
  return (
    <div className="progress-output" role="progressbar" aria-valuenow={data.done} aria-valuemax={data.total}>
      {data.label && <span className="progress-label">{data.label}</span>}
      <span className="progress-track">
        <span className="progress-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
      </span>
      <span className="progress-count">
        {data.done}/{data.total}
      </span>
      {fields.length > 0 && <span className="progress-fields">{fields.join('  ')}</span>}
    </div>
  );
}

interface PairsData {
  variants: string[];
  pairs: { query: string; title: string; gold?: string; preds?: Record<string, string>; pred?: string; rationale?: string }[];
}

function PairsOutput({ data }: { data: PairsData }) {
  const rows = data.pairs.slice(0, 500).map((p, i) => {
    const preds = p.preds ?? (p.pred !== undefined ? { pred: p.pred } : {});
    return { key: i, query: p.query, title: p.title, gold: p.gold, preds: data.variants.map((v) => preds[v]), hint: p.rationale };
  });
  return <PairsTable columns={data.variants} labels={LREF5} rows={rows} />;
}

function ConfusionOutput({ data }: { data: { labels: string[]; matrix: number[][] } }) {
  const max = Math.max(1, ...data.matrix.flat());
  return (
    <table className="confusion">
      <thead>
        <tr>
          <th>gold \ pred</th>
          {data.labels.map((l) => (
            <th key={l}>{l}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {data.matrix.map((row, i) => (
          <tr key={i}>
            <th>{data.labels[i]}</th>
            {row.map((n, j) => (
              <td key={j} className={i === j ? 'diag' : ''} style={{ background: `rgba(${i === j ? '26,127,55' : '192,57,43'},${(0.08 + (0.7 * n) / max).toFixed(3)})` }}>
                {n}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
