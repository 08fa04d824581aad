import type { RunContents } from '../runs/store.ts';
import type { BundleInfo } from './bundle.ts';

/**
 * METRICS.md of a bundle: the run's whole ablation table (so the exported variant is seen beside
 * what it was compared with), the data it was measured on, seed, backend and code version. Figures
 * are the run's test split, in percent, as the CLI prints them.
 */
export function metricsCard(run: RunContents, info: BundleInfo): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const d = run.run.data;
  const rows = run.metrics.variants.map((m) => {
    const name = m.name === info.variant ? `**${m.name}** (this bundle)` : m.name;
    return `| ${name} | ${pct(m.macro_f1)} | ${pct(m.weighted_f1)} | ${pct(m.accuracy)} | ${pct(m.optimistic_rate)} | ${pct(m.optimistic_error_share)} | ${m.unparseable} | ${m.n} |`;
  });
  const perClass = info.metrics.labels.map((l) => {
    const c = info.metrics.per_class[l];
    return `| ${l} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`;
  });
  return [
    `# ${info.name}`,
    '',
    `LREF Workbench bundle of variant \`${info.variant}\` from run \`${info.run_id}\` (${run.run.created}).`,
    '',
    '## Measured on',
    '',
    `- data: ${d.source}, scheme ${d.scheme}, ${d.pairs} pairs (sha256 ${d.hash})`,
    `- split by query: ${d.split.train} train / ${d.split.valid} valid / ${d.split.test} test; the figures below are the test split`,
    `- seed ${run.run.seed}, backend ${run.run.backend}, code version ${run.run.code_version}`,
    '',
    '## Ablation (test split, %)',
    '',
    '| variant | macro-F1 | weighted-F1 | accuracy | optimistic rate | optimistic share of errors | unparseable | n |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `## ${info.variant}: per class (test split, %)`,
    '',
    '| label | precision | recall | F1 | support |',
    '|---|---:|---:|---:|---:|',
    ...perClass,
    '',
    'One run, one seed: compare variants across seeds (mean ± std) before trusting a difference.',
    '',
  ].join('\n');
}
