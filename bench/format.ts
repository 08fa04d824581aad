/** The human-readable tables of a bench report: ours, PyTorch, ratio, and fraction of fp32 peak. */
import type { BenchReport } from './run.ts';

const FIGURES = [
  ['trainTokensPerSec', 'train tok/s', 'trainPerToken'],
  ['scorePairsPerSec', 'score pairs/s', 'scorePerPair'],
  ['genTokensPerSec', 'gen tok/s', 'genPerToken'],
] as const;

function fmt(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits || (x < 10 ? 2 : 1));
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

export function formatReport(r: BenchReport): string[] {
  const lines: string[] = [];
  const load = r.machine.loadAverage;
  const loadNote = load ? `, load average ${load.start.toFixed(2)} → ${load.end.toFixed(2)} (1 min; other jobs lower every figure)` : '';
  lines.push(`machine: ${r.machine.cpu}, ${r.machine.logicalCpus} logical CPUs${loadNote}`);
  lines.push(r.native.registered
    ? `native backend: lref-native (${r.native.isa}, ${r.native.threads} threads)`
    : `native backend: unavailable — ${r.native.reason}`);
  lines.push(r.torch.available ? `PyTorch ${r.torch.version}, ${r.torch.threads} threads, OPENBLAS_NUM_THREADS=1` : `PyTorch: unavailable — ${r.torch.reason}`);
  const peak = r.peak.nativeGflops;
  lines.push(`fp32 sgemm peak (1536³): native ${fmt(r.peak.nativeGflops)} GFLOP/s (1 thread ${fmt(r.peak.nativeGflops1Thread)}), ` +
    `torch ${fmt(r.peak.torchGflops)}, numpy ${fmt(r.peak.numpyGflops)} (2048³)`);
  if (r.kernels.length) {
    lines.push('', 'native kernels:');
    for (const k of r.kernels) lines.push(`  ${k.name.padEnd(36)} ${fmt(k.value, 1).padStart(8)} ${k.unit}`);
  }
  const mm = Object.entries(r.tfMatMulGflops);
  if (mm.length) lines.push('', `tf.matMul 2048x128·128x128: ${mm.map(([b, g]) => `${b} ${fmt(g, 2)} GFLOP/s`).join(', ')}`);
  for (const [name, p] of Object.entries(r.presets)) {
    lines.push('', `preset ${name}:`);
    const widths = [14, 14, 14, 12, 8, 8];
    for (const [field, label, flopKey] of FIGURES) {
      lines.push(pad([label, 'backend', 'ours', 'PyTorch', 'ratio', '%peak'], widths));
      const torch = p.torch?.[field];
      for (const [backend, figs] of Object.entries(p.backends)) {
        if ('error' in figs) {
          lines.push(pad(['', backend, 'n/a', fmt(torch), '', ''], widths));
          continue;
        }
        const ours = figs[field];
        const pct = peak ? (100 * ours * p.flops[flopKey]) / 1e9 / peak : undefined;
        lines.push(pad(['', backend, fmt(ours), fmt(torch), torch ? `${(ours / torch).toFixed(2)}x` : '—', pct === undefined ? '—' : `${pct.toFixed(1)}%`], widths));
      }
      if (torch !== undefined && peak) {
        lines.push(pad(['', 'PyTorch', fmt(torch), '', '', `${((100 * torch * p.flops[flopKey]) / 1e9 / peak).toFixed(1)}%`], widths));
      }
    }
    // Batched greedy generation (prefill included), ours and PyTorch's on the same weights and prompts;
    // the last column is the speed-up over decoding one prompt at a time (the gen tok/s row above).
    const theirs = p.torch?.genBatchTokensPerSec;
    const batched = Object.entries(p.backends).filter(([, figs]) => !('error' in figs) && figs.genBatchTokensPerSec);
    if (batched.length) lines.push(pad(['gen batched', 'backend', 'ours tok/s', 'PyTorch', 'ratio', 'vs 1 prompt'], [...widths.slice(0, 5), 12]));
    for (const [backend, figs] of batched) {
      if ('error' in figs || !figs.genBatchTokensPerSec) continue;
      for (const [b, ours] of Object.entries(figs.genBatchTokensPerSec)) {
        const t = theirs?.[b];
        const vsOne = figs.genTokensPerSec > 0 ? `${(ours / figs.genTokensPerSec).toFixed(1)}x` : '—';
        lines.push(pad([`  batch ${b}`, backend, fmt(ours), fmt(t), t ? `${(ours / t).toFixed(2)}x` : '—', vsOne], [...widths.slice(0, 5), 12]));
      }
    }
    if (p.genTokensAgree !== undefined) lines.push(`  same tokens as PyTorch at the largest batch: ${(100 * p.genTokensAgree).toFixed(1)}% of positions`);
  }
  return lines;
}
