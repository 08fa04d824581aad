import type { MetricsRecord } from '../eval/metrics.ts';

/**
 * Notebook-side helpers that turn metrics into table rows and Vega-Lite specs, so the example
 * notebooks show results in a few lines instead of repeating chart JSON. Pure builders, no I/O:
 * pass their output to `display.table` / `display.vegalite`.
 */

/** A fraction as a percentage with two decimals, like the LREF paper's tables. */
export const pct = (x: number): number => Math.round(x * 10_000) / 100;

/** The columns of a metrics row, in display order (values in percent, counts as counts). */
export const METRIC_COLUMNS = ['macro_f1', 'weighted_f1', 'accuracy', 'optimistic_rate', 'optimistic_error_share', 'unparseable', 'n'] as const;

/**
 * One row per MetricsRecord: `{ [nameKey]: name, macro_f1, weighted_f1, accuracy, optimistic_rate,
 * optimistic_error_share }` in percent, plus `unparseable` and `n` as counts. Field names are the
 * metrics.json names, so a chart and the file say the same thing.
 */
export function metricsRows(records: readonly MetricsRecord[], nameKey = 'variant'): Record<string, string | number>[] {
  return records.map((m) => ({
    [nameKey]: m.name,
    macro_f1: pct(m.macro_f1),
    weighted_f1: pct(m.weighted_f1),
    accuracy: pct(m.accuracy),
    optimistic_rate: pct(m.optimistic_rate),
    optimistic_error_share: pct(m.optimistic_error_share),
    unparseable: m.unparseable,
    n: m.n,
  }));
}

export interface GroupedBarsOptions {
  /** the field that names each group along the x axis (e.g. "variant") */
  x: string;
  /** numeric fields drawn side by side within each group, in this order */
  measures: readonly string[];
  title?: string;
  yTitle?: string;
  /** a field that splits the chart into side-by-side panels (e.g. "slice_by"), each with its own x axis */
  column?: string;
  /** fixed y range, e.g. [0, 100] for percentages; default: from the data */
  domain?: readonly [number, number];
}

/**
 * A grouped bar chart (Vega-Lite v5): one group per distinct `x` value, in first-seen order (a
 * table's order is usually meaningful: stage order, head → tail), one bar per measure. Rows are
 * melted to long form `{x, [column], measure, value}`; non-numeric values are left out rather than
 * drawn as 0.
 */
export function groupedBars(rows: readonly Record<string, unknown>[], opts: GroupedBarsOptions): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  const order: string[] = [];
  for (const r of rows) {
    const x = String(r[opts.x]);
    if (!order.includes(x)) order.push(x);
    for (const measure of opts.measures) {
      const v = r[measure];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      values.push({ [opts.x]: x, ...(opts.column ? { [opts.column]: r[opts.column] } : {}), measure, value: v });
    }
  }
  const y: Record<string, unknown> = { field: 'value', type: 'quantitative', title: opts.yTitle ?? 'value' };
  if (opts.domain) y.scale = { domain: [...opts.domain] };
  const encoding: Record<string, unknown> = {
    // With panels, each panel keeps only its own groups; a shared sort list would leave gaps.
    x: { field: opts.x, type: 'nominal', sort: opts.column ? null : order, title: opts.x, axis: { labelAngle: -30 } },
    xOffset: { field: 'measure', sort: [...opts.measures] },
    y,
    color: { field: 'measure', type: 'nominal', sort: [...opts.measures], title: null },
    tooltip: [{ field: opts.x }, { field: 'measure' }, { field: 'value', type: 'quantitative' }],
  };
  if (opts.column) encoding.column = { field: opts.column, type: 'nominal', title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    mark: 'bar',
    encoding,
    ...(opts.column ? { resolve: { scale: { x: 'independent' } } } : {}),
  };
}
