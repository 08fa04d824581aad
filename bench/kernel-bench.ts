/**
 * Kernel-level figures: the native addon's sgemm on the shapes the tiny model runs (GFLOP/s),
 * this machine's fp32 peak as the addon reaches it on a large sgemm, a few fused kernels, and
 * tf.matMul of one model-shaped product on each TF.js backend for comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, UnaryOp } from '../core/model/native-addon.ts';
import { Rng } from '../core/util/rng.ts';
import { median } from './model-bench.ts';

export interface KernelFigure {
  name: string;
  /** GFLOP/s for matmuls, GB/s (read + write) for memory-bound kernels */
  value: number;
  unit: 'GFLOP/s' | 'GB/s';
}

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() - 0.5;
  return a;
}

/** Median seconds per call over `repeat` runs sized to ~`budgetMs` each. */
function secondsPerCall(fn: () => void, repeat: number, budgetMs = 150): number {
  fn();
  const t0 = performance.now();
  fn();
  const once = Math.max(performance.now() - t0, 1e-3);
  const inner = Math.max(1, Math.round(budgetMs / once));
  const times: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) fn();
    times.push((performance.now() - s) / 1000 / inner);
  }
  return median(times);
}

/** [batch, M, N, K, transA, transB, label] of the products in a tiny-preset training step. */
const GEMMS: [number, number, number, number, boolean, boolean, string][] = [
  [1, 2048, 128, 128, false, false, 'x·Wq  2048x128x128'],
  [1, 2048, 512, 128, false, false, 'x·W1  2048x512x128'],
  [1, 2048, 128, 512, false, false, 'h·W2  2048x128x512'],
  [1, 2048, 512, 128, false, true, 'x·Eᵀ (tied head) 2048x512x128'],
  [1, 128, 512, 2048, true, false, 'dW = xᵀ·dy 128x512x2048'],
  [64, 128, 128, 32, false, true, 'q·kᵀ  64 x 128x128x32'],
  [64, 128, 32, 128, false, false, 'att·v 64 x 128x32x128'],
];

export function nativeKernelFigures(repeat: number): { kernels: KernelFigure[]; peak1: number; peak: number } | undefined {
  const loaded = loadNativeAddon();
  if (!loaded.available) return undefined;
  const ad = loaded.addon;
  const kernels: KernelFigure[] = [];
  const gemm = (b: number, m: number, n: number, k: number, ta: boolean, tb: boolean) => {
    const A = randomArray(b * m * k, 1);
    const B = randomArray(b * k * n, 2);
    const C = new Float32Array(b * m * n);
    const s = secondsPerCall(() => ad.gemm(b, b, b, m, n, k, ta ? 1 : 0, tb ? 1 : 0, A, B, C), repeat);
    return (2 * b * m * n * k) / s / 1e9;
  };
  for (const [b, m, n, k, ta, tb, label] of GEMMS) kernels.push({ name: `sgemm ${label}`, value: gemm(b, m, n, k, ta, tb), unit: 'GFLOP/s' });

  const rows = 16 * 4 * 128;
  const x = randomArray(rows * 128, 3);
  const y = new Float32Array(x.length);
  const gbps = (bytes: number, fn: () => void) => bytes / secondsPerCall(fn, repeat) / 1e9;
  kernels.push({ name: 'softmax rows 8192x128', value: gbps(8 * x.length, () => ad.softmax(x, y, rows, 128)), unit: 'GB/s' });
  const g = randomArray(128, 4);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  kernels.push({ name: 'layerNorm 8192x128', value: gbps(8 * x.length, () => ad.layerNorm(x, g, g, y, mean, rstd, rows, 128, 1e-5)), unit: 'GB/s' });
  kernels.push({ name: 'gelu 1M', value: gbps(8 * x.length, () => ad.unary(UnaryOp.geluTanh, x, y)), unit: 'GB/s' });
  const meta = Int32Array.from([2, rows, 128, 128, 1, 0, 1]);
  kernels.push({ name: 'add [8192,128]+[128]', value: gbps(12 * x.length, () => ad.binary(0, meta, x, g, y)), unit: 'GB/s' });

  // Peak: a large square sgemm, one thread and all threads.
  const threads = loaded.threads;
  ad.setThreads(1);
  const peak1 = gemm(1, 1536, 1536, 1536, false, false);
  ad.setThreads(threads);
  const peak = gemm(1, 1536, 1536, 1536, false, false);
  return { kernels, peak1, peak };
}

/** tf.matMul of a [2048,128]·[128,128] product on the current backend, GFLOP/s. */
export function tfMatMulGflops(repeat: number): number {
  const a = tf.tensor2d(randomArray(2048 * 128, 5), [2048, 128]);
  const b = tf.tensor2d(randomArray(128 * 128, 6), [128, 128]);
  const s = secondsPerCall(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, repeat, 100);
  tf.dispose([a, b]);
  return (2 * 2048 * 128 * 128) / s / 1e9;
}
