import type { MetricsRecord } from './metrics.ts';

/**
 * Plain-text tables of MetricsRecords for the CLI and notebook outputs, in percent with two
 * decimals like the LREF paper's tables. Text columns are left-aligned, numbers right-aligned.
 */

const pct = (x: number) => (100 * x).toFixed(2);

/**
 * variant | macro-F1 | weighted-F1 | acc | opt-rate | opt-share | n — plus an "unparsed" column
 * when any record has unparseable predictions (so a silent 0 never hides them).
 */
export function formatMetricsTable(records: readonly MetricsRecord[]): string {
  const showUnparsed = records.some((r) => r.unparseable > 0);
  const header = ['variant', 'macro-F1', 'weighted-F1', 'acc', 'opt-rate', 'opt-share', 'n'];
  if (showUnparsed) header.push('unparsed');
  const rows = records.map((r) => {
    const row = [
      r.name,
      pct(r.macro_f1),
      pct(r.weighted_f1),
      pct(r.accuracy),
      pct(r.optimistic_rate),
      pct(r.optimistic_error_share),
      String(r.n),
    ];
    if (showUnparsed) row.push(String(r.unparseable));
    return row;
  });
  return alignTable(header, rows);
}

/** Per-class precision / recall / F1 (percent) and gold support, in scheme order. */
export function formatPerClass(record: MetricsRecord): string {
  const rows = record.labels.map((l) => {
    const c = record.per_class[l];
    return [l, pct(c.precision), pct(c.recall), pct(c.f1), String(c.support)];
  });
  return alignTable(['label', 'precision', 'recall', 'F1', 'support'], rows);
}

/** Counts, rows = gold, columns = predicted, in scheme order (best → worst). */
export function formatConfusion(record: MetricsRecord): string {
  const rows = record.labels.map((l, i) => [l, ...record.confusion[i].map(String)]);
  return alignTable(['gold \\ pred', ...record.labels], rows);
}

/** First column left-aligned, the rest right-aligned; columns separated by two spaces. */
export function alignTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return all.map(line).join('\n');
}
