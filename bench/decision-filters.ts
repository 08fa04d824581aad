// The decision matrix's filters on a generated 100K-pair run (4 variants): each filter and a
// combination, median of 7 passes, in ms. The target is < 100 ms per filter (issue 10); the same
// code runs in the renderer. Run: npm run bench:views [-- --pairs N --json]
import { changeCounts, filterRows, sortRows, toggleCounts, UNPARSEABLE, type DecisionTable, type Filters } from '../core/analysis/decisions.ts';
import { Rng } from '../core/util/rng.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('pairs', '100000'));
const json = process.argv.includes('--json');

function generated(n: number): DecisionTable {
  const rng = new Rng(7);
  const rand = () => rng.next();
  const words = ['drill', 'cordless', 'oak', 'table', 'lamp', 'led', 'cable', 'usb', 'pack', 'red', 'blue', 'steel', 'glass', 'mug', '18v', '2m', 'shade', 'hdmi'];
  const text = (k: number) => Array.from({ length: k }, () => words[Math.floor(rand() * words.length)]).join(' ');
  const gold = new Int8Array(n);
  const rows = Array.from({ length: n }, (_, i) => {
    gold[i] = Math.floor(rand() * 5);
    return { pair_id: `p${i}`, query: text(3), title: text(8), band: ['head', 'torso', 'tail'][i % 3], intent: ['exact', 'accessory', 'broad'][i % 3] };
  });
  const columns = ['sft_all', '+ee', '+dr', '+dpo'].map((variant) => {
    const pred = new Int8Array(n);
    const prob = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rand();
      pred[i] = r < 0.5 ? gold[i] : r < 0.98 ? Math.floor(rand() * 5) : UNPARSEABLE;
      prob[i] = rand();
    }
    return { id: `run/${variant}`, run: 'run', variant, pred, prob };
  });
  return { labels: ['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant'], rows, gold, columns };
}

function median(f: () => unknown, passes = 7): number {
  const t: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(passes / 2)];
}

const t = generated(N);
const cols = t.columns.map((c) => c.id);
const cases: [string, Filters][] = [
  ['all', {}],
  ['errors', { errors: true }],
  ['different', { different: true }],
  ['changed +dr→+dpo fixed', { changed: { from: 'run/+dr', to: 'run/+dpo', kind: 'fixed' } }],
  ['optimistic in +dpo', { optimistic: true, focus: 'run/+dpo' }],
  ['off by ≥2', { offBy2: true }],
  ['gold=Exact, band=tail', { gold: ['Exact'], band: ['tail'] }],
  ['text "oak table"', { search: 'oak table' }],
  ['regex \\b18v\\b', { search: '\\b18v\\b', regex: true }],
  ['errors + different + tail + text', { errors: true, different: true, band: ['tail'], search: 'drill' }],
];
const results: Record<string, number> = {};
for (const [name, f] of cases) results[name] = median(() => filterRows(t, cols, f));
results['filter bar counts (5 filters)'] = median(() => toggleCounts(t, cols, { band: ['tail'] }));
results['change counts (5 kinds)'] = median(() => changeCounts(t, cols, {}, 'run/+dr', 'run/+dpo'));
results['sort by disagreement'] = median(() => sortRows(t, filterRows(t, cols, {}), cols, { by: 'disagreement' }), 3);
if (json) console.log(JSON.stringify({ pairs: N, variants: cols.length, ms: results }));
else {
  console.log(`decision filters on ${N} pairs × ${cols.length} variants (median ms; target < 100 per filter)`);
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(36)} ${v.toFixed(1).padStart(7)}`);
}
