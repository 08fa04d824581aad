import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { adamwStep, gelu, layerNorm, softmaxCrossEntropy } from './native-ops.ts';
import { Rng } from '../util/rng.ts';

// Every native kernel is checked against the tfjs cpu backend on the same random inputs.
const status = nativeBackendStatus();
if (!status.registered) console.warn(`native backend tests skipped: ${status.reason}`);

type Spec = { shape: number[]; dtype?: 'float32' | 'int32'; values?: number[] };

function data(spec: Spec, seed: number): number[] {
  if (spec.values) return spec.values;
  const rng = new Rng(seed);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/** Runs f on fresh tensors of the same data under a backend; returns shapes and values of every output. */
async function runOn(backend: string, specs: Spec[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  await tf.setBackend(backend);
  const xs = specs.map((s, i) => tf.tensor(data(s, 17 + i), s.shape, s.dtype ?? 'float32'));
  const outs = tf.tidy(() => {
    const r = f(...xs);
    return Array.isArray(r) ? r : [r];
  });
  const result = outs.map((o) => ({ shape: o.shape, values: Array.from(o.dataSync()) }));
  tf.dispose([...xs, ...outs]);
  return result;
}

/** Same shapes, and |native - cpu| <= tol * max(1, |cpu|) element-wise. */
async function expectSame(specs: Spec[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], tol = 1e-4) {
  const want = await runOn('cpu', specs, f);
  const got = await runOn(NATIVE_BACKEND, specs, f);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i].shape);
    let worst = 0;
    g.values.forEach((v, j) => {
      const w = want[i].values[j];
      worst = Math.max(worst, Math.abs(v - w) / Math.max(1, Math.abs(w)));
    });
    expect(worst).toBeLessThanOrEqual(tol);
  });
}

describe.skipIf(!status.registered)('lref-native kernels match the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend(NATIVE_BACKEND);
  });

  it('unary kernels keep IEEE semantics at extreme inputs (σ(−100) is 0, 1/0 is Inf; not NaN)', async () => {
    // vmath.cc is built with -ffast-math, which assumes no infinities: σ(−100) came out NaN and
    // with it the DPO loss's softplus gradient, once a margin passed ~88 nats.
    const xs: Spec = { shape: [10], values: [-200, -100, -88, -20, 0, 1e-30, 20, 88, 100, 200] };
    const fns: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
      ['sigmoid', tf.sigmoid], ['exp', tf.exp], ['tanh', tf.tanh], ['softplus', tf.softplus], ['reciprocal', tf.reciprocal],
      ['rsqrt', (x) => tf.rsqrt(tf.abs(x))], ['log', (x) => tf.log(tf.abs(x))], ['sqrt', (x) => tf.sqrt(tf.abs(x))],
      ['softplus grad', (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.softplus(t)))(x)],
    ];
    for (const [name, f] of fns) {
      const [want] = await runOn('cpu', [xs], f);
      const [got] = await runOn(NATIVE_BACKEND, [xs], f);
      got.values.forEach((v, j) => {
        const w = want.values[j];
        const same = Number.isFinite(w) ? Math.abs(v - w) <= 1e-4 * Math.max(1, Math.abs(w)) : Object.is(v, w);
        expect(same, `${name}(${xs.values![j]}): native ${v}, cpu ${w}`).toBe(true);
      });
    }
  });

  it('reports an ISA and threads', () => {
    if (!status.registered) return;
    expect(['avx512', 'avx2', 'generic']).toContain(status.isa);
    expect(status.threads).toBeGreaterThanOrEqual(1);
    expect(status.nativeKernels).toContain('BatchMatMul');
  });

  const sizes: [number, number, number][] = [[1, 1, 1], [7, 33, 130], [130, 7, 33], [33, 130, 1], [1, 130, 7], [64, 128, 96]];
  for (const [m, k, n] of sizes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`matMul ${m}x${k}x${n} transposeA=${ta} transposeB=${tb}`, async () => {
          await expectSame([{ shape: ta ? [k, m] : [m, k] }, { shape: tb ? [n, k] : [k, n] }], (a, b) => tf.matMul(a, b, ta, tb));
        });
      }
    }
  }

  it('batched and batch-broadcast matMul', async () => {
    await expectSame([{ shape: [3, 7, 33] }, { shape: [3, 33, 5] }], (a, b) => tf.matMul(a, b));
    await expectSame([{ shape: [1, 7, 33] }, { shape: [4, 33, 5] }], (a, b) => tf.matMul(a, b));
    await expectSame([{ shape: [2, 4, 33, 7] }, { shape: [2, 4, 130, 33] }], (a, b) => tf.matMul(a, b, true, true));
    await expectSame([{ shape: [4, 130, 16] }, { shape: [4, 130, 16] }], (a, b) => tf.matMul(a, b, false, true));
  });

  it('fused matMul with bias and activation', async () => {
    for (const activation of ['linear', 'relu', 'sigmoid', 'elu'] as const) {
      await expectSame([{ shape: [33, 7] }, { shape: [7, 130] }, { shape: [130] }],
        (a, b, bias) => tf.fused.matMul({ a, b, bias, activation }));
    }
  });

  it('broadcasting binary ops', async () => {
    const pairs: [number[], number[]][] = [[[7, 33], [7, 33]], [[2, 7, 33], [33]], [[2, 7, 33], [2, 1, 33]],
      [[2, 7, 1], [1, 7, 33]], [[], [7, 3]], [[130], [1]], [[1], [1]], [[3, 1, 5, 1], [1, 4, 1, 6]]];
    for (const [sa, sb] of pairs) {
      await expectSame([{ shape: sa }, { shape: sb }], (a, b) => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b),
        tf.maximum(a, b), tf.minimum(a, b), tf.squaredDifference(a, b), tf.pow(tf.abs(a), b)]);
    }
  });

  it('unary ops', async () => {
    await expectSame([{ shape: [7, 130] }], (x) => [tf.exp(x), tf.log(tf.abs(x)), tf.tanh(tf.mul(x, 5)), tf.sqrt(tf.abs(x)),
      tf.rsqrt(tf.add(tf.abs(x), 0.1)), tf.neg(x), tf.square(x), tf.relu(x), tf.sigmoid(x), tf.abs(x),
      tf.reciprocal(tf.add(x, 2)), tf.erf(x), tf.log1p(tf.abs(x))]);
  });

  it('reductions over contiguous and scattered axes', async () => {
    await expectSame([{ shape: [3, 7, 33] }], (x) => [tf.sum(x, -1), tf.sum(x, 0), tf.sum(x, [1, 2]), tf.sum(x, 1, true),
      tf.mean(x, -1), tf.mean(x, [0, 1]), tf.max(x, -1), tf.max(x, 0), tf.min(x, 1), tf.sum(x, [0, 2]), tf.sum(x)]);
  });

  it('transposes', async () => {
    await expectSame([{ shape: [2, 7, 3, 5] }], (x) => [tf.transpose(x, [0, 2, 1, 3]), tf.transpose(x, [3, 2, 1, 0]),
      tf.transpose(x, [0, 1, 2, 3]), tf.transpose(x, [1, 0, 3, 2])]);
    await expectSame([{ shape: [33, 130] }], (x) => tf.transpose(x));
    // the attention layouts, with partial 16x16 tiles: [B,T,H,hd] -> [B,H,hd,T] and [B,H,T,hd]
    await expectSame([{ shape: [3, 130, 4, 33] }], (x) => [tf.transpose(x, [0, 2, 3, 1]), tf.transpose(x, [0, 2, 1, 3])]);
    await expectSame([{ shape: [5, 33, 17] }], (x) => tf.transpose(x, [0, 2, 1]));
  });

  it('softmax', async () => {
    await expectSame([{ shape: [4, 7, 130] }], (x) => tf.softmax(tf.mul(x, 10)));
    await expectSame([{ shape: [1, 1] }], (x) => tf.softmax(x));
  });

  it('gather and its gradient (unsorted segment sum)', async () => {
    const idx = { shape: [2, 7], dtype: 'int32' as const, values: [0, 3, 3, 32, 1, 0, 5, 7, 7, 7, 2, 31, 0, 4] };
    await expectSame([{ shape: [33, 5] }, idx], (t, i) => tf.gather(t, i));
    await expectSame([{ shape: [33, 5] }, idx], (t, i) => tf.grad((tt: tf.Tensor) => tf.sum(tf.square(tf.gather(tt, i))))(t));
  });

  it('addN', async () => {
    await expectSame([{ shape: [7, 33] }, { shape: [7, 33] }, { shape: [7, 33] }], (a, b, c) => tf.addN([a, b, c]));
  });

  it('gradients through matMul, softmax and broadcasting', async () => {
    await expectSame([{ shape: [2, 7, 33] }, { shape: [33, 130] }, { shape: [130] }], (x, w, b) => {
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
        const y = tf.add(tf.matMul(tf.reshape(xx, [14, 33]), ww), bb);
        return tf.sum(tf.mul(tf.softmax(y), tf.tanh(y)));
      });
      return g([x, w, b]);
    });
  });
});

describe.skipIf(!status.registered)('fused native ops match their composite form on cpu', () => {
  it('gelu forward and gradient', async () => {
    await expectSame([{ shape: [7, 130] }], (x) => {
      const scaled = tf.mul(x, 4);
      return [gelu(scaled), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), t)))(scaled)];
    });
  });

  it('layer norm forward and gradients', async () => {
    await expectSame([{ shape: [3, 7, 33] }, { shape: [33] }, { shape: [33] }], (x, g, b) => {
      const gamma = tf.add(g, 1);
      const w = tf.sin(tf.range(0, 33));
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(xx, gg, bb), w));
      return [layerNorm(x, gamma, b), ...tf.grads(f)([x, gamma, b])];
    });
  });

  it('softmax cross-entropy forward and gradient, ignoring label -1', async () => {
    const labels = { shape: [6], dtype: 'int32' as const, values: [0, 129, 5, -1, 64, 7] };
    await expectSame([{ shape: [6, 130] }, labels], (x, l) => {
      const logits = tf.mul(x, 8) as tf.Tensor2D;
      const f = (z: tf.Tensor) => tf.sum(softmaxCrossEntropy(z as tf.Tensor2D, l as tf.Tensor1D));
      return [softmaxCrossEntropy(logits, l as tf.Tensor1D), tf.grad(f)(logits)];
    });
  });

  it('leaves no tensors behind after a forward and backward pass', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const x = tf.randomNormal([4, 33]);
    const gamma = tf.ones([33]);
    const beta = tf.zeros([33]);
    const before = tf.memory().numTensors;
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(gelu(layerNorm(a, b, c))))([x, gamma, beta]);
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });
});

describe.skipIf(!status.registered)('adamwStep', () => {
  it('matches the composite AdamW update of core/train/adamw.ts and refuses off the native backend', async () => {
    const n = 1000;
    const p0 = data({ shape: [n] }, 1);
    const g0 = data({ shape: [n] }, 2);
    const m0 = data({ shape: [n] }, 3).map((x) => x * 0.1);
    const v0 = data({ shape: [n] }, 4).map((x) => x * x * 0.01);
    const o = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    // composite, as AdamW.apply computes it, on cpu
    await tf.setBackend('cpu');
    const want = tf.tidy(() => {
      const g = tf.mul(tf.tensor1d(g0), o.gradScale);
      const m1 = tf.add(tf.mul(tf.tensor1d(m0), o.beta1), tf.mul(g, 1 - o.beta1));
      const v1 = tf.add(tf.mul(tf.tensor1d(v0), o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
      const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(1 - o.beta2 ** o.step)), o.eps);
      const upd = tf.mul(tf.div(m1, denom), o.lr / (1 - o.beta1 ** o.step));
      return [tf.sub(tf.mul(tf.tensor1d(p0), 1 - o.lr * o.weightDecay), upd), m1, v1].map((t) => Array.from(t.dataSync()));
    });
    const vars = () => [tf.variable(tf.tensor1d(p0)), tf.variable(tf.tensor1d(m0)), tf.variable(tf.tensor1d(v0))];
    const [cp, cm, cv] = vars();
    expect(adamwStep(cp, cm, cv, tf.tensor1d(g0), o)).toBe(false); // cpu: caller must fall back
    tf.dispose([cp, cm, cv]);
    await tf.setBackend(NATIVE_BACKEND);
    const [p, m, v] = vars();
    const g = tf.tensor1d(g0);
    expect(adamwStep(p, m, v, g, o)).toBe(true);
    [p, m, v].forEach((t, i) => {
      const got = t.dataSync();
      let worst = 0;
      got.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - want[i][j]) / Math.max(1e-3, Math.abs(want[i][j]))); });
      expect(worst).toBeLessThan(1e-4);
    });
    tf.dispose([p, m, v, g]);
  });
});
