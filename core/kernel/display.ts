import { inspect } from 'node:util';
import type { MimeBundle } from './protocol.ts';

/**
 * MIME bundles for notebook outputs: pure builders, no I/O. Each rich type carries a text/plain
 * fallback so a notebook reads on GitHub, in a terminal and in JupyterLab without our renderers.
 * The kernel worker binds these to `display(…)` in cells.
 */
export const MIME = {
  table: 'application/vnd.lref.table+json',
  pairs: 'application/vnd.lref.pairs+json',
  confusion: 'application/vnd.lref.confusion+json',
  progress: 'application/vnd.lref.progress+json',
  vegalite: 'application/vnd.vegalite.v5+json',
  decisions: 'application/vnd.lref.decisions+json',
} as const;

/** A value that already knows its MIME bundle; display() and execute_result use it as is. */
export class Rich {
  constructor(readonly bundle: MimeBundle) {}
}

/** The bundle for any value: Rich as is; otherwise text/plain via util.inspect (+ JSON for plain data). */
export function bundleOf(value: unknown): MimeBundle {
  if (value instanceof Rich) return value.bundle;
  const bundle: MimeBundle = { 'text/plain': typeof value === 'string' ? value : inspect(value, { depth: 4, colors: false, maxArrayLength: 50 }) };
  if (isPlainData(value)) bundle['application/json'] = value;
  return bundle;
}

function isPlainData(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return false;
  try {
    return JSON.stringify(v).length < 1_000_000;
  } catch {
    return false;
  }
}

type Row = Record<string, unknown>;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === 'string') return v.replace(/\s+/g, ' ');
  return JSON.stringify(v);
}

/** An aligned text table: numbers right-aligned, long cells cut at `maxWidth` characters. */
export function textTable(columns: string[], rows: unknown[][], maxWidth = 40): string {
  const cut = (s: string) => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const text = rows.map((r) => r.map((v) => cut(cellText(v))));
  const numeric = columns.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] == null));
  const widths = columns.map((h, c) => Math.max(h.length, ...text.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

function columnsOf(rows: Row[]): string[] {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

/** Rows of records → an lref table (columns in first-seen order) with a text fallback of the first `maxRows`. */
export function tableBundle(rows: Row[], opts: { columns?: string[]; maxRows?: number; title?: string } = {}): MimeBundle {
  const columns = opts.columns ?? columnsOf(rows);
  const matrix = rows.map((r) => columns.map((c) => r[c]));
  const maxRows = opts.maxRows ?? 50;
  let text = textTable(columns, matrix.slice(0, maxRows));
  if (rows.length > maxRows) text += `\n… ${rows.length - maxRows} more rows (${rows.length} in all)`;
  if (opts.title) text = `${opts.title}\n${text}`;
  return { [MIME.table]: { columns, rows: matrix, ...(opts.title ? { title: opts.title } : {}) }, 'text/plain': text };
}

export function vegaliteBundle(spec: Record<string, unknown>): MimeBundle {
  const mark = typeof spec.mark === 'string' ? spec.mark : ((spec.mark as { type?: string } | undefined)?.type ?? 'layered');
  const values = (spec.data as { values?: unknown[] } | undefined)?.values;
  const title = typeof spec.title === 'string' ? ` "${spec.title}"` : '';
  return { [MIME.vegalite]: spec, 'text/plain': `<Vega-Lite ${mark} chart${title}${values ? `, ${values.length} data points` : ''}>` };
}

export function htmlBundle(html: string): MimeBundle {
  const plain = html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { 'text/html': html, 'text/plain': plain };
}

export function imageBundle(png: Uint8Array, opts: { width?: number; height?: number } = {}): MimeBundle {
  if (png.length < 8 || png[0] !== 0x89 || png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) {
    throw new Error('display.image: the bytes are not a PNG (missing the \\x89PNG signature)');
  }
  return { 'image/png': Buffer.from(png).toString('base64'), 'text/plain': `<PNG image, ${png.length} bytes${opts.width ? `, ${opts.width}×${opts.height ?? '?'}` : ''}>` };
}

/** One pair decision for side-by-side review: the pair, the gold label and each variant's prediction. */
export interface PairDecision {
  pair_id?: string;
  query: string;
  title: string;
  gold?: string;
  /** variant name → predicted label; or a single `pred` */
  preds?: Record<string, string>;
  pred?: string;
  rationale?: string;
  [key: string]: unknown;
}

export function pairsBundle(records: PairDecision[], opts: { maxRows?: number } = {}): MimeBundle {
  const variants = [...new Set(records.flatMap((r) => Object.keys(r.preds ?? (r.pred !== undefined ? { pred: r.pred } : {}))))];
  const rows = records.map((r) => {
    const preds = r.preds ?? (r.pred !== undefined ? { pred: r.pred } : {});
    return { query: r.query, title: r.title, gold: r.gold ?? '', ...Object.fromEntries(variants.map((v) => [v, preds[v] ?? ''])) };
  });
  const text = (tableBundle(rows, { maxRows: opts.maxRows ?? 30 })['text/plain'] as string);
  return { [MIME.pairs]: { variants, pairs: records }, 'text/plain': text };
}

/** A confusion matrix: matrix[gold][pred] counts, labels best → worst. */
export function confusionBundle(matrix: number[][], labels?: string[]): MimeBundle {
  const names = labels ?? matrix.map((_, i) => String(i));
  if (matrix.length !== names.length || matrix.some((r) => r.length !== names.length)) {
    throw new Error(`display.confusion: expected a ${names.length}×${names.length} matrix, got ${matrix.length}×${matrix[0]?.length ?? 0}`);
  }
  const rows = matrix.map((r, i) => [names[i], ...r]);
  const text = textTable(['gold \\ pred', ...names], rows);
  return { [MIME.confusion]: { labels: names, matrix }, 'text/plain': text };
}

/** A progress bar's bundle: `label [#####.....] done/total  k v`. */
export function progressBundle(done: number, total: number, label = '', fields: Record<string, string | number> = {}): MimeBundle {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const extra = Object.entries(fields).map(([k, v]) => `  ${k} ${typeof v === 'number' ? cellText(v) : v}`).join('');
  const text = `${label ? label + ' ' : ''}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${extra}`;
  return { [MIME.progress]: { done, total, label, fields }, 'text/plain': text };
}

/** Where a decision matrix lives: run folders (absolute paths), and optionally columns ("run/variant") and filters. */
export interface DecisionsRef {
  runs: string[];
  columns?: string[];
  filters?: Record<string, unknown>;
}

/** The decision matrix of runs, live in the app (with a link to open it whole); a line of text elsewhere. */
export function decisionsBundle(ref: DecisionsRef): MimeBundle {
  if (!ref.runs.length) throw new Error('display.decisions: give at least one run folder');
  return { [MIME.decisions]: ref, 'text/plain': `<decisions of ${ref.runs.join(', ')}: open this notebook in the LREF Workbench to see them>` };
}
