/**
 * Loads the optional native kernel addon (native/build/lref_native*.node, built by
 * `node native/build.mjs`). Loading never throws: when the addon is missing or broken the status
 * says why, and callers fall back to TF.js's own backends. Every addon function validates its
 * arguments and throws a JS error on bad ones (native/src/addon.cc); calls from several threads
 * (worker_threads) are serialised.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { repoRoot } from '../util/paths.ts';

/** Codes shared with native/src/ops.h. */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, squaredDiff: 6, pow: 7 } as const;
export const UnaryOp = {
  exp: 0, log: 1, tanh: 2, sqrt: 3, rsqrt: 4, neg: 5, square: 6, relu: 7, sigmoid: 8, abs: 9,
  reciprocal: 10, erf: 11, geluTanh: 12, log1p: 13, step: 14,
} as const;
export const ReduceOp = { sum: 0, mean: 1, max: 2, min: 3 } as const;

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's functions; every array is used in place (no copies). See native/src/addon.cc. */
export interface NativeAddon {
  gemm(batch: number, batchA: number, batchB: number, m: number, n: number, k: number,
    transA: number, transB: number, a: F32, b: F32, c: F32): void;
  /** C[b,h] = op(A[b,h])·op(B[b,h]), X[b,h] at X + b·sXb + h·sXh with row stride ldX (see native/src/gemm.h) */
  stridedGemm(nb: number, nh: number, m: number, n: number, k: number, transA: number, transB: number,
    a: F32, sAb: number, sAh: number, lda: number, b: F32, sBb: number, sBh: number, ldb: number,
    c: F32, sCb: number, sCh: number, ldc: number): void;
  /** softmax of row r over columns 0..(r % T) + offset, zeros after */
  softmaxCausal(x: F32, out: F32, rows: number, cols: number, T: number, offset: number): void;
  /** meta = [ndim, ...outShape, ...stridesA, ...stridesB] (stride 0 where an input broadcasts) */
  binary(op: number, meta: I32, a: F32, b: F32, out: F32): void;
  unary(op: number, x: F32, out: F32): void;
  reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void;
  transpose(x: F32, out: F32, shape: I32, perm: I32): void;
  softmax(x: F32, out: F32, rows: number, cols: number): void;
  softmaxGrad(y: F32, dy: F32, dx: F32, rows: number, cols: number): void;
  layerNorm(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  layerNormGrad(x: F32, gamma: F32, mean: F32, rstd: F32, dy: F32, dx: F32, dgamma: F32, dbeta: F32,
    rows: number, cols: number): void;
  geluGrad(x: F32, dy: F32, dx: F32): void;
  softmaxXent(logits: F32, labels: I32, probs: F32, loss: F32, rows: number, cols: number): number;
  softmaxXentGrad(probs: F32, labels: I32, dloss: F32, dlogits: F32, rows: number, cols: number): void;
  gatherRows(table: F32, idx: I32, out: F32, n: number, cols: number, tableRows: number): void;
  scatterAddRows(src: F32, idx: I32, out: F32, n: number, cols: number, outRows: number): void;
  adam(w: F32, m: F32, v: F32, g: F32, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, bias1: number, bias2: number, gradScale: number): void;
  /** Σ x², accumulated in double */
  sumSquares(x: F32): number;
  /** y = x·mask with TF.js's dropout mask from Alea state (s0, s1, s2, c); see native/src/ops.h */
  dropout(x: F32, y: F32, mask: F32, s0: number, s1: number, s2: number, c: number, keep: number): void;
  info(): { isa: string; threads: number };
  /** Safe from any thread: waits for a running kernel (one kernel runs at a time per process). */
  setThreads(n: number): void;
}

export type AddonStatus =
  | { available: true; path: string; isa: string; threads: number; variant: string; addon: NativeAddon }
  | { available: false; path: string; reason: string };

/** The build folder: native/build, or LREF_NATIVE_BUILD_DIR (native/build.mjs reads it too). */
export function nativeBuildDir(): string {
  return process.env.LREF_NATIVE_BUILD_DIR ?? join(repoRoot(), 'native', 'build');
}

/** The addon built for this machine (-march=native); LREF_NATIVE_ADDON names another (the sanitizer build). */
export function nativeAddonPath(): string {
  return process.env.LREF_NATIVE_ADDON ?? join(nativeBuildDir(), 'lref_native.node');
}

/**
 * The addon files to try, fastest first: the variants native/build.mjs recorded in
 * build-info.json (native, avx2, generic), or the one file LREF_NATIVE_ADDON names.
 */
export function nativeAddonCandidates(): string[] {
  if (process.env.LREF_NATIVE_ADDON) return [process.env.LREF_NATIVE_ADDON];
  const dir = nativeBuildDir();
  try {
    const info = JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8')) as { variants?: { file?: unknown }[] };
    const files = (info.variants ?? []).map((v) => v.file).filter((f): f is string => typeof f === 'string');
    if (files.length > 0) return files.map((f) => join(dir, f));
  } catch {
    // no or an older build-info.json: the one file
  }
  return [join(dir, 'lref_native.node')];
}

let cached: AddonStatus | undefined;

/**
 * The addon, loaded once. LREF_NATIVE=0 in the environment turns it off; LREF_NATIVE_THREADS=N
 * sets its thread count (default: all logical CPUs; 1 can win on a machine busy with other jobs,
 * where a second thread is often descheduled mid-kernel). A variant built for CPU features this
 * CPU lacks refuses to load (it throws before running any of its code) and the next one is tried.
 */
export function loadNativeAddon(): AddonStatus {
  if (cached) return cached;
  const path = nativeAddonPath();
  if (process.env.LREF_NATIVE === '0') {
    cached = { available: false, path, reason: 'disabled by LREF_NATIVE=0' };
    return cached;
  }
  const candidates = nativeAddonCandidates().filter((p) => existsSync(p));
  if (candidates.length === 0) {
    cached = { available: false, path, reason: `not built (run \`node native/build.mjs\`; needs g++ and Node headers)` };
    return cached;
  }
  const refused: string[] = [];
  for (const file of candidates) {
    try {
      const addon = createRequire(import.meta.url)(file) as NativeAddon & { variant?: string };
      const wanted = Number(process.env.LREF_NATIVE_THREADS);
      if (Number.isInteger(wanted) && wanted >= 1) addon.setThreads(wanted);
      const { isa, threads } = addon.info();
      cached = { available: true, path: file, isa, threads, variant: addon.variant ?? 'unknown', addon };
      return cached;
    } catch (e) {
      refused.push(`${basename(file)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  cached = { available: false, path, reason: `failed to load: ${refused.join('; ')}` };
  return cached;
}
