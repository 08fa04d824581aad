/**
 * `lref bench` end to end: for each preset and backend, the model figures; the native kernel
 * figures and peak; the PyTorch reference of the same model; all in one versioned report.
 */
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { initBackend } from '../core/model/backend.ts';
import { nativeBackendStatus } from '../core/model/native-backend.ts';
import { benchModel, type ModelFigures } from './model-bench.ts';
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
    ratios?: Record<string, { train: number; score: number; gen: number }>;
  }>;
  torch: { available: true; version: string; threads: number } | { available: false; reason: string };
}

/** ours / PyTorch for each backend that ran, per figure: the number the target is stated in. */
export function ratiosToTorch(
  backends: Record<string, ModelFigures | { error: string }>,
  torch: ModelFigures | undefined,
): Record<string, { train: number; score: number; gen: number }> | undefined {
  if (!torch) return undefined;
  const out: Record<string, { train: number; score: number; gen: number }> = {};
  for (const [name, f] of Object.entries(backends)) {
    if ('error' in f) continue;
    out[name] = {
      train: f.trainTokensPerSec / torch.trainTokensPerSec,
      score: f.scorePairsPerSec / torch.scorePairsPerSec,
      gen: f.genTokensPerSec / torch.genTokensPerSec,
    };
  }
  return out;
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
    const k = nativeKernelFigures(opts.repeat);
    if (k) {
      report.kernels = k.kernels;
      report.peak.nativeGflops1Thread = k.peak1;
      report.peak.nativeGflops = k.peak;
    }
  }

  const workloads = new Map<BenchPresetName, BenchWorkload>(opts.presets.map((p) => [p, workload(p)]));
  for (const [name, w] of workloads) report.presets[name] = { flops: flopsOf(w), backends: {} };

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
      report.presets[name].backends[running] = benchModel(w, plan);
      if (tf.memory().numTensors !== numBefore) log(`warning: ${tf.memory().numTensors - numBefore} tensors leaked on ${running}`);
    }
  }

  if (opts.torch) {
    log('PyTorch reference…');
    const presetJson = Object.fromEntries([...workloads].map(([n, w]) => [n, torchPresetJson(w)]));
    const t = runTorchReference(presetJson, { threads: 2, repeat: opts.repeat, steps: opts.steps });
    if (t.ok) {
      const r: TorchResult = t.result;
      report.torch = { available: true, version: r.torch, threads: r.threads };
      report.peak.torchGflops = r.peak.torchGflops;
      report.peak.numpyGflops = r.peak.numpyGflops;
      for (const name of workloads.keys()) {
        const preset = report.presets[name];
        preset.torch = r.presets[name];
        preset.ratios = ratiosToTorch(preset.backends, preset.torch);
      }
    } else {
      report.torch = { available: false, reason: t.reason };
      log(`PyTorch reference unavailable: ${t.reason}`);
    }
  }
  report.machine.loadAverage!.end = loadavg()[0];
  return report;
}
