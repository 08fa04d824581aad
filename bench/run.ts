/**
 * `lref bench` end to end: for each preset and backend, the model figures; the native kernel
 * figures and peak; the PyTorch reference of the same model; all in one versioned report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { initBackend } from '../core/model/backend.ts';
import { nativeBackendStatus } from '../core/model/native-backend.ts';
import { benchModel, benchModelOf, exportWeights, GEN_BATCHES, genBatchFigures, genPrompts, timed, type ModelFigures } from './model-bench.ts';
import { nativeKernelFigures, tfMatMulGflops, type KernelFigure } from './kernel-bench.ts';
import { torchPresetJson, workload, type BenchPresetName, type BenchWorkload } from './presets.ts';
import { runTorchReference, type TorchResult } from './torch-ref.ts';

export const BenchOptions = z.object({
  presets: z.array(z.enum(['tiny', 'small'])).min(1),
  backends: z.array(z.string()).min(1),
  repeat: z.number().int().min(1),
  /** Timed train/score calls per run (cpu always gets 1: one tiny step takes many seconds there). */
  steps: z.number().int().min(1),
  torch: z.boolean(),
  kernels: z.boolean(),
});
export type BenchOptions = z.infer<typeof BenchOptions>;

export interface BenchReport {
  version: 1;
  /** loadAverage: 1-minute load average when the run started and ended (other jobs skew every figure). */
  machine: { cpu: string; logicalCpus: number; loadAverage?: { start: number; end: number } };
  native: { registered: boolean; isa?: string; threads?: number; reason?: string };
  peak: { nativeGflops1Thread?: number; nativeGflops?: number; torchGflops?: number; numpyGflops?: number };
  kernels: KernelFigure[];
  tfMatMulGflops: Record<string, number>;
  presets: Record<string, {
    flops: { trainPerToken: number; scorePerPair: number; genPerToken: number };
    backends: Record<string, ModelFigures | { error: string }>;
    torch?: ModelFigures;
    /** ours / PyTorch per backend and figure (> 1: we are faster); absent without the reference */
    ratios?: Record<string, { train: number; score: number; gen: number; genBatch?: Record<string, number> }>;
    /** share of the largest batch's generated tokens on which PyTorch (same weights, same prompts) and the first backend agree */
    genTokensAgree?: number;
  }>;
  torch: { available: true; version: string; threads: number } | { available: false; reason: string };
}

/** ours / PyTorch for each backend that ran, per figure: the number the issue's target is stated in. */
export function ratiosToTorch(
  backends: Record<string, ModelFigures | { error: string }>,
  torch: ModelFigures | undefined,
): Record<string, { train: number; score: number; gen: number; genBatch?: Record<string, number> }> | undefined {
  if (!torch) return undefined;
  const out: Record<string, { train: number; score: number; gen: number; genBatch?: Record<string, number> }> = {};
  for (const [name, f] of Object.entries(backends)) {
    if ('error' in f) continue;
    const ours = f.genBatchTokensPerSec;
    const theirs = torch.genBatchTokensPerSec;
    out[name] = {
      train: f.trainTokensPerSec / torch.trainTokensPerSec,
      score: f.scorePairsPerSec / torch.scorePairsPerSec,
      gen: f.genTokensPerSec / torch.genTokensPerSec,
      ...(ours && theirs
        ? { genBatch: Object.fromEntries(Object.entries(ours).filter(([b]) => theirs[b]).map(([b, r]) => [b, r / theirs[b]])) }
        : {}),
    };
  }
  return out;
}

/** Share of positions where two runs generated the same token (a check that PyTorch ran the same model). */
export function tokenAgreement(a: number[][], b: number[][]): number {
  let same = 0;
  let n = 0;
  a.forEach((row, i) => row.forEach((t, j) => {
    n++;
    if (b[i]?.[j] === t) same++;
  }));
  return n === 0 ? 0 : same / n;
}

/** Matmul FLOPs of the model's work units (the softmax/LN/elementwise work is not counted). */
export function flopsOf(w: BenchWorkload) {
  const { dModel: d, nLayers: L, contextLength: T, vocabSize: V, ffMult } = w.model;
  const perTokenNoHead = (ctx: number) => L * (2 * (4 + 2 * ffMult) * d * d + 4 * ctx * d);
  return {
    trainPerToken: 3 * (perTokenNoHead(T) + 2 * V * d),
    scorePerPair: T * perTokenNoHead(T) + 2 * w.labels * d,
    genPerToken: perTokenNoHead(w.genPrompt + w.genTokens / 2) + 2 * V * d,
  };
}

export async function runBench(opts: BenchOptions, log: (line: string) => void): Promise<BenchReport> {
  const st = nativeBackendStatus();
  const native = st.registered ? { registered: true, isa: st.isa, threads: st.threads } : { registered: false, reason: st.reason };
  const report: BenchReport = {
    version: 1,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', logicalCpus: cpus().length, loadAverage: { start: loadavg()[0], end: 0 } },
    native,
    peak: {},
    kernels: [],
    tfMatMulGflops: {},
    presets: {},
    torch: { available: false, reason: 'not run (--no-torch)' },
  };
  if (!st.registered) log(`native backend unavailable: ${st.reason}`);

  if (opts.kernels) {
    log('native kernels and peak…');
    const t0 = performance.now();
    const k = nativeKernelFigures(opts.repeat);
    log(`  took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (k) {
      report.kernels = k.kernels;
      report.peak.nativeGflops1Thread = k.peak1;
      report.peak.nativeGflops = k.peak;
    }
  }

  const workloads = new Map<BenchPresetName, BenchWorkload>(opts.presets.map((p) => [p, workload(p)]));
  for (const [name, w] of workloads) report.presets[name] = { flops: flopsOf(w), backends: {} };
  // The tokens the first backend generated at the largest batch, to compare with PyTorch's.
  const ourTokens = new Map<string, number[][]>();

  for (const backend of opts.backends) {
    let running: string;
    try {
      running = await initBackend(backend);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log(`${backend}: ${error}`);
      for (const name of workloads.keys()) report.presets[name].backends[backend] = { error };
      continue;
    }
    if (opts.kernels) report.tfMatMulGflops[running] = tfMatMulGflops(running === 'cpu' ? 1 : opts.repeat);
    for (const [name, w] of workloads) {
      // cpu is ~100x slower: one timed call per figure, and not the small preset unless asked alone.
      const plan = running === 'cpu' ? { repeat: 1, steps: 1 } : { repeat: opts.repeat, steps: opts.steps };
      log(`${name} on ${running}…`);
      const numBefore = tf.memory().numTensors;
      const phases: Record<string, number> = {};
      const figs = benchModel(w, plan, phases);
      // Batched generation on a fresh seeded model: the weights PyTorch is given.
      const model = benchModelOf(w);
      try {
        const gen = timed(phases, 'gen batch', () => genBatchFigures(model, w, plan.repeat));
        figs.genBatchTokensPerSec = gen.rates;
        if (!ourTokens.has(name)) ourTokens.set(name, gen.tokens);
      } finally {
        model.dispose();
      }
      log(`  took ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
      report.presets[name].backends[running] = figs;
      if (tf.memory().numTensors !== numBefore) log(`warning: ${tf.memory().numTensors - numBefore} tensors leaked on ${running}`);
    }
  }

  if (opts.torch) {
    log('PyTorch reference…');
    const dir = mkdtempSync(join(tmpdir(), 'lref-bench-'));
    let t: ReturnType<typeof runTorchReference>;
    try {
      const presetJson = Object.fromEntries(
        [...workloads].map(([n, w]) => {
          const weights = join(dir, `${n}.f32`);
          const model = benchModelOf(w);
          exportWeights(model, weights);
          model.dispose();
          return [n, torchPresetJson(w, { weights, prompts: genPrompts(w, Math.max(...GEN_BATCHES)), batches: GEN_BATCHES })];
        }),
      );
      const t0 = performance.now();
      t = runTorchReference(presetJson, { threads: 2, repeat: opts.repeat, steps: opts.steps });
      log(`  took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (t.ok) {
      const r: TorchResult = t.result;
      report.torch = { available: true, version: r.torch, threads: r.threads };
      report.peak.torchGflops = r.peak.torchGflops;
      report.peak.numpyGflops = r.peak.numpyGflops;
      for (const name of workloads.keys()) {
        const preset = report.presets[name];
        const { genBatchTokens, ...figures } = r.presets[name];
        preset.torch = figures;
        preset.ratios = ratiosToTorch(preset.backends, preset.torch);
        const ours = ourTokens.get(name);
        if (genBatchTokens && ours) preset.genTokensAgree = tokenAgreement(ours, genBatchTokens);
      }
    } else {
      report.torch = { available: false, reason: t.reason };
      log(`PyTorch reference unavailable: ${t.reason}`);
    }
  }
  report.machine.loadAverage!.end = loadavg()[0];
  return report;
}
