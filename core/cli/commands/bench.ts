import type { Command } from '../command.ts';
import { optBool, optInt, optString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/atomic.ts';

const PRESETS = ['tiny', 'small'] as const;
/** Measured fast enough for a default run (≤ 3 min on 2 cores with both presets); see benchBackends. */
export const FAST_BACKENDS = ['lref-native', 'wasm'];
/** ~100× slower than lref-native: one tiny training step takes seconds; only on request. */
export const SLOW_BACKENDS = ['cpu'];

function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UserError('expected a comma-separated list, got an empty one');
  return items;
}

/** The backends a bench runs: --backends as given, else the fast ones, plus the slow ones with --all-backends. */
export function benchBackends(backends: string | undefined, all: boolean): string[] {
  if (backends !== undefined && all) throw new UserError('--backends and --all-backends: give one of them');
  return list(backends, all ? [...FAST_BACKENDS, ...SLOW_BACKENDS] : FAST_BACKENDS);
}

/** `lref bench`: training, scoring and generation speed per backend, beside PyTorch on this machine. */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure training/scoring/generation speed per TF.js backend against PyTorch on this machine',
  usage: 'bench [--json] [--presets tiny,small] [--backends lref-native,wasm,cpu | --all-backends] [--repeat N] [--steps N] [--no-torch] [--out FILE]',
  examples: [
    'lref bench',
    'lref bench --all-backends',
    'lref bench --presets tiny --backends lref-native,wasm --repeat 5',
    'lref bench --json --out runs/bench.json',
  ],
  options: {
    json: { type: 'boolean' },
    presets: { type: 'string' },
    backends: { type: 'string' },
    'all-backends': { type: 'boolean' },
    repeat: { type: 'string' },
    steps: { type: 'string' },
    'no-torch': { type: 'boolean' },
    'no-kernels': { type: 'boolean' },
    out: { type: 'string' },
    hf: { type: 'boolean' },
  },
  optionHelp: {
    hf: 'only the imported-model figures: a random 135M Llama-shaped model scoring pairs and one LoRA step, beside PyTorch (several minutes)',
    json: 'print the report as JSON instead of tables',
    presets: `model presets to run (${PRESETS.join(', ')}; default both)`,
    backends: `TF.js backends in order (default the fast ones: ${FAST_BACKENDS.join(',')}; cpu gets one timed step)`,
    'all-backends': `also the slow backends (${SLOW_BACKENDS.join(', ')}; adds many minutes)`,
    repeat: 'timed runs per figure; the median is reported (default 3)',
    steps: 'training steps / scoring batches per timed run (default 1; each is a full 16-sequence batch)',
    'no-torch': 'skip the PyTorch reference',
    'no-kernels': 'skip the native kernel and peak figures',
    out: 'also write the JSON report to this file',
  },
  async run(args, io) {
    if (optBool(args, 'hf')) {
      // Not part of the default run (minutes, and a 270 MB temp checkpoint): see bench/hf-bench.ts.
      const { initBackend } = await import('../../model/backend.ts');
      await initBackend();
      const { runHFBench } = await import('../../../bench/hf-bench.ts');
      const report = await runHFBench({ batch: 8, seq: 64, repeat: optInt(args, 'repeat', 3, 1, 100), threads: 2, torch: !optBool(args, 'no-torch') }, (l) => io.err(l));
      const json = JSON.stringify(report, null, 2);
      const out = optString(args, 'out');
      if (out) writeFileAtomic(out, json + '\n');
      io.out(json);
      return 0;
    }
    const presets = list(optString(args, 'presets'), [...PRESETS]);
    for (const p of presets) {
      if (!(PRESETS as readonly string[]).includes(p)) throw new UserError(`--presets: unknown preset "${p}" (known: ${PRESETS.join(', ')})`);
    }
    const { BenchOptions, runBench } = await import('../../../bench/run.ts');
    const { formatReport } = await import('../../../bench/format.ts');
    const opts = BenchOptions.parse({
      presets,
      backends: benchBackends(optString(args, 'backends'), optBool(args, 'all-backends')),
      repeat: optInt(args, 'repeat', 3, 1, 100),
      // 1: a timed call is already a full training step (16 full-context sequences) or scoring batch,
      // so the median of `repeat` single calls after a warm-up is stable; 3 made the default run >3 min.
      steps: optInt(args, 'steps', 1, 1, 1000),
      torch: !optBool(args, 'no-torch'),
      kernels: !optBool(args, 'no-kernels'),
    });
    const report = await runBench(opts, (line) => io.err(line));
    const json = JSON.stringify(report, null, 2);
    const out = optString(args, 'out');
    if (out) writeFileAtomic(out, json + '\n');
    if (optBool(args, 'json')) io.out(json);
    else for (const line of formatReport(report)) io.out(line);
    return 0;
  },
};
