import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { loadNativeAddon } from './native-addon.ts';
import { adamwStep, gelu, layerNorm, softmax, softmaxCrossEntropy } from './native-ops.ts';
import { DecoderLM } from './gpt.ts';
import { TrainConfig } from './config.ts';
import { makeOptimizer } from '../train/loop.ts';
import { NonFiniteLossError, trainStep } from '../train/step.ts';
import { makeBatch } from '../train/batch.ts';
import { repoRoot } from '../util/paths.ts';

// The native backend must never crash the process, read past a buffer, hide a NaN or give wrong
// answers under threads (issue 15). Crashes are probed in child processes.
const status = nativeBackendStatus();
if (!status.registered) console.warn(`native safety tests skipped: ${status.reason}`);
const here = join(repoRoot(), 'core', 'model');

const ENTRY_POINTS = ['gemm', 'stridedGemm', 'softmaxCausal', 'binary', 'unary', 'reduce', 'transpose', 'softmax',
  'softmaxGrad', 'layerNorm', 'layerNormGrad', 'geluGrad', 'softmaxXent', 'softmaxXentGrad', 'gatherRows',
  'scatterAddRows', 'adam', 'sumSquares', 'dropout', 'setThreads'];

describe.skipIf(!status.registered)('native addon: bad input throws a JS error, never crashes', () => {
  it('covers every entry point the addon exports', () => {
    const loaded = loadNativeAddon();
    if (!loaded.available) throw new Error(loaded.reason);
    const exported = Object.keys(loaded.addon).filter((k) => typeof (loaded.addon as unknown as Record<string, unknown>)[k] === 'function');
    expect(exported.sort()).toEqual([...ENTRY_POINTS, 'info'].sort());
  });

  it.each(ENTRY_POINTS)('%s', (entry) => {
    const loaded = loadNativeAddon();
    if (!loaded.available) throw new Error(loaded.reason);
    const r = spawnSync(process.execPath, [join(here, 'native-safety.probe.mjs'), loaded.path, entry], {
      encoding: 'utf8', timeout: 60_000,
    });
    expect(r.signal, `the probe died: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { case: string; threw: boolean; message: string; edge?: boolean; ok?: boolean });
    const cases = all.filter((c) => !c.edge);
    expect(cases.length).toBeGreaterThan(5);
    // legal edge cases (empty sizes, exact in-place calls) still work
    const broken = all.filter((c) => c.edge && !c.ok).map((c) => `${c.case}: ${c.message}`);
    expect(broken, `${entry} refused or botched a legal call`).toEqual([]);
    const silent = cases.filter((c) => !c.threw).map((c) => c.case);
    expect(silent, `${entry} accepted bad input`).toEqual([]);
    // the error names the function, so a user can tell which kernel refused
    for (const c of cases) expect(c.message.startsWith(`${entry}: `), `${c.case}: ${c.message}`).toBe(true);
  });
});

/** Runs f under a backend and returns the outputs' shapes and values. */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; values: number[] }[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const res = outs.map((o) => ({ shape: o.shape, values: Array.from(o.dataSync()) }));
  tf.dispose(outs);
  return res;
}

/** Same shapes, same non-finite values (NaN where NaN, ±Inf where ±Inf), finite ones within tol. */
function expectSameIEEE(got: { shape: number[]; values: number[] }[], want: { shape: number[]; values: number[] }[], what: string, tol = 1e-5) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i].shape);
    g.values.forEach((v, j) => {
      const w = want[i].values[j];
      const same = Number.isFinite(w) ? Math.abs(v - w) <= tol * Math.max(1, Math.abs(w)) : Object.is(v, w);
      if (!same) expect.fail(`${what} [${j}]: native ${v}, cpu ${w}`);
    });
  });
}

describe.skipIf(!status.registered)('lref-native through the TF.js API: the cases of issue 15', () => {
  beforeAll(async () => {
    await tf.setBackend(NATIVE_BACKEND);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('transpose with a repeated axis gives the cpu backend\'s answer, not values from past the input', async () => {
    const f = () => tf.transpose(tf.ones([10, 10, 100]), [0, 0, 2]);
    const [got] = await on(NATIVE_BACKEND, f);
    const [want] = await on('cpu', f);
    expect(got.shape).toEqual([10, 10, 100]);
    // (the cpu kernel leaves the positions no input element maps to at 0)
    expect(got.values.filter((v) => v !== 0 && v !== 1).length).toBe(0);
    expect(got.values).toEqual(want.values);
  });

  it('softmax cross-entropy on [4, 0] logits: zero losses and an empty gradient, no SIGFPE', async () => {
    const f = () => {
      const logits = tf.zeros([4, 0]) as tf.Tensor2D;
      const labels = tf.tensor1d([0, 1, -1, 2], 'int32');
      const loss = softmaxCrossEntropy(logits, labels);
      const grad = tf.grad((x: tf.Tensor) => tf.sum(softmaxCrossEntropy(x as tf.Tensor2D, labels)))(logits);
      return [loss, grad];
    };
    // (off 'lref-native' the composite form refuses this: tf.oneHot needs a depth >= 2)
    const got = await on(NATIVE_BACKEND, f);
    expect(got[0]).toEqual({ shape: [4], values: [0, 0, 0, 0] });
    expect(got[1]).toEqual({ shape: [4, 0], values: [] });
  });

  it('softmax and layer norm over an empty last axis, and their gradients', async () => {
    const f = () => {
      const x = tf.zeros([4, 0]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(softmax(t)))(x);
      const ln = layerNorm(x, tf.zeros([0]), tf.zeros([0]));
      const lg = tf.grad((t: tf.Tensor) => tf.sum(layerNorm(t, tf.ones([0]), tf.zeros([0]))))(x);
      return [softmax(x), g, ln, lg];
    };
    // (the composite layer norm's gradient fails on an empty axis in TF.js itself, so no cpu reference)
    const got = await on(NATIVE_BACKEND, f);
    expect(got.map((o) => o.shape)).toEqual([[4, 0], [4, 0], [4, 0], [4, 0]]);
  });

  it('matMul with an empty batch', async () => {
    const f = () => tf.matMul(tf.ones([0, 3, 4]), tf.ones([0, 4, 5]));
    const [got] = await on(NATIVE_BACKEND, f);
    expect(got.shape).toEqual([0, 3, 5]);
  });

  it('NaN and ±Inf pass through every native element-wise op as on the cpu backend (short and long arrays)', async () => {
    // Long arrays take the vectorised, multi-threaded path (libmvec under fast-math); short ones the tail loops.
    const special = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 50, -50, 100, -100];
    for (const n of [special.length, 100_003]) {
      const values = Float32Array.from({ length: n }, (_, i) => special[i % special.length]);
      const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
        ['sigmoid', tf.sigmoid], ['exp', tf.exp], ['log', tf.log], ['tanh', tf.tanh], ['sqrt', tf.sqrt],
        ['rsqrt', tf.rsqrt], ['neg', tf.neg], ['square', tf.square], ['relu', tf.relu], ['abs', tf.abs],
        ['reciprocal', tf.reciprocal], ['erf', tf.erf], ['log1p', tf.log1p],
        ['add', (x) => tf.add(x, x)], ['mul', (x) => tf.mul(x, 2)], ['div', (x) => tf.div(x, 3)],
        ['max', (x) => tf.maximum(x, 0)], ['min', (x) => tf.minimum(x, 0)], ['pow', (x) => tf.pow(x, tf.scalar(2))],
        ['sum', (x) => tf.sum(tf.reshape(x, [-1, n])), ], ['max reduce', (x) => tf.max(x)],
        ['softmax', (x) => tf.softmax(tf.reshape(x, [n, 1]))],
        ['matMul', (x) => tf.matMul(tf.reshape(x, [1, n]), tf.ones([n, 2]))],
      ];
      for (const [name, op] of ops) {
        const f = () => op(tf.tensor1d(values));
        expectSameIEEE(await on(NATIVE_BACKEND, f), await on('cpu', f), `${name} (n = ${n})`, 1e-4);
      }
      // The fused GELU against its composite form, NaN for NaN.
      const [g] = await on(NATIVE_BACKEND, () => gelu(tf.tensor1d(values)));
      g.values.forEach((v, i) => {
        if (Number.isNaN(values[i])) expect(v, `gelu(NaN) at ${i}`).toBeNaN();
      });
    }
  });

  it('sigmoid(NaN) is NaN, not 0.99999994 (short) or 6e-39 (long)', async () => {
    for (const n of [3, 100_000]) {
      const [got] = await on(NATIVE_BACKEND, () => tf.sigmoid(tf.fill([n], NaN)));
      expect(got.values.every((v) => Number.isNaN(v)), `n = ${n}`).toBe(true);
    }
  });

  it('two threads running tf.matMul at once (main and a worker_thread) both get exact results; setThreads from either never deadlocks', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'native-threads.probe.ts')], {
      encoding: 'utf8', timeout: 120_000, cwd: repoRoot(),
    });
    expect(r.signal, `the probe hung or died: ${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('wrong 0 0');
  });

  it('AdamW refuses step 0 (it would turn every weight into NaN)', () => {
    const p = tf.variable(tf.ones([4]));
    const m = tf.variable(tf.zeros([4]));
    const v = tf.variable(tf.zeros([4]));
    const g = tf.ones([4]);
    const o = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0, gradScale: 1 };
    expect(() => adamwStep(p, m, v, g, o)).toThrow(/step must be an integer >= 1/);
    expect(Array.from(p.dataSync())).toEqual([1, 1, 1, 1]);
    tf.dispose([p, m, v, g]);
  });

  it('a training step with a non-finite loss stops with a clear error and leaves the weights alone', () => {
    const cfg = { vocabSize: 32, contextLength: 16, dModel: 32, nHeads: 2, nLayers: 1, dropout: 0, seed: 3 };
    const model = new DecoderLM(cfg);
    const opt = makeOptimizer(model, TrainConfig.parse({}));
    const batch = makeBatch([{ prompt: [1, 2, 3, 4], completion: [5, 6, 7] }], { contextLength: 16 });
    const [name, w] = [...model.params()][0];
    w.assign(tf.fill(w.shape, NaN));
    const before = model.params().get([...model.params().keys()][1])!.dataSync().slice();
    const leaked = tf.memory().numTensors;
    expect(() => trainStep(model, opt, batch, { lr: 1e-3, clipNorm: 1 })).toThrow(NonFiniteLossError);
    expect(tf.memory().numTensors, 'tensors leaked by the failed step').toBe(leaked);
    expect(() => trainStep(model, opt, batch, { lr: 1e-3, clipNorm: 1 })).toThrow(/training diverged: the loss is NaN/);
    const after = model.params().get([...model.params().keys()][1])!.dataSync();
    expect(Array.from(after), `${name} poisoned, the others must not be updated`).toEqual(Array.from(before));
    opt.dispose();
    model.dispose();
  });
});
