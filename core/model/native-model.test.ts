import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { bmm, gelu, layerNorm, linear, matmul, matmulBT, tokenLogProbs } from './ops.ts';
import { attnContext, attnScores } from './native-attention.ts';
import { causalSoftmax, qkvProjection, softmax } from './native-ops.ts';
import { aleaState, dropout } from './native-dropout.ts';
import { DecoderLM, KVCache } from './gpt.ts';
import { TrainConfig } from './config.ts';
import { makeOptimizer } from '../train/loop.ts';
import { lmLoss, trainStep } from '../train/step.ts';
import { makeBatch } from '../train/batch.ts';
import { Rng } from '../util/rng.ts';

// The model's ops take native routes on 'lref-native' (transpose flags, fused kernels, the
// native dropout); every route is checked here against the cpu backend running the portable path.
const status = nativeBackendStatus();
if (!status.registered) console.warn(`native model tests skipped: ${status.reason}`);

function randn(seed: number, shape: number[], scale = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale);
}

/** Values of f's output and of the gradients of Σ f·probe w.r.t. every input, on one backend. */
async function valueAndGrads(backend: string, shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<number[][]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(randn(10 + i, s), s));
    const y = f(...xs);
    const probe = tf.tensor(randn(99, y.shape), y.shape);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), probe)) as tf.Scalar)(xs);
    return [y, ...gs].map((t) => Array.from(t.dataSync()));
  });
}

/** max |a−b| / max(1, max|b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let err = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(b[i]));
  }
  return err / Math.max(1, mag);
}

async function expectNativeMatchesCpu(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, tol = 1e-5) {
  const want = await valueAndGrads('cpu', shapes, f);
  const got = await valueAndGrads(NATIVE_BACKEND, shapes, f);
  got.forEach((g, i) => expect(relErr(g, want[i]), i === 0 ? 'value' : `gradient ${i - 1}`).toBeLessThan(tol));
}

describe.skipIf(!status.registered)('ops.ts native routes match the portable ops on cpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matmul, matmulBT, bmm (transpose-flag gradients)', async () => {
    await expectNativeMatchesCpu([[37, 20], [20, 45]], (a, b) => matmul(a as tf.Tensor2D, b as tf.Tensor2D));
    await expectNativeMatchesCpu([[37, 20], [45, 20]], (a, b) => matmulBT(a as tf.Tensor2D, b as tf.Tensor2D));
    await expectNativeMatchesCpu([[6, 9, 8], [6, 8, 11]], (a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D));
  });

  it('attention products on heads in place equal transpose + batched matmul on cpu (values and gradients)', async () => {
    const [B, T, Tk, H, hd] = [2, 5, 7, 3, 4];
    const heads = (t: tf.Tensor, n: number) => tf.transpose(tf.reshape(t, [B, n, H, hd]), [0, 2, 1, 3]);
    const want = await valueAndGrads('cpu', [[B, T, H * hd], [B, Tk, H * hd], [B, Tk, H * hd]], (q, k, v) => {
      const p = tf.softmax(tf.matMul(heads(q, T), heads(k, Tk), false, true));
      return tf.reshape(tf.transpose(tf.matMul(p, heads(v, Tk)), [0, 2, 1, 3]), [B, T, H * hd]);
    });
    const got = await valueAndGrads(NATIVE_BACKEND, [[B, T, H * hd], [B, Tk, H * hd], [B, Tk, H * hd]], (q, k, v) =>
      attnContext(softmax(attnScores(q as tf.Tensor3D, k as tf.Tensor3D, H)), v as tf.Tensor3D));
    got.forEach((g, i) => expect(relErr(g, want[i]), `output ${i}`).toBeLessThan(1e-5));
  });

  it('causal softmax equals softmax after the −1e9 bias (values and gradient), with a cache offset', async () => {
    const [T, Tk, offset] = [4, 9, 5];
    const bias = tf.tidy(() => tf.tensor2d(Array.from({ length: T * Tk }, (_, r) => (r % Tk > Math.floor(r / Tk) + offset ? -1e9 : 0)), [T, Tk]));
    const want = await valueAndGrads('cpu', [[2, 3, T, Tk]], (s) => tf.softmax(tf.add(tf.mul(s, 4), bias)));
    const got = await valueAndGrads(NATIVE_BACKEND, [[2, 3, T, Tk]], (s) => causalSoftmax(tf.mul(s, 4), offset));
    got.forEach((g, i) => expect(relErr(g, want[i]), `output ${i}`).toBeLessThan(1e-6));
    expect(got[0].slice(Tk - 3, Tk)).toEqual([0, 0, 0]); // query 0 at position 5 sees keys 0..5 only
    bias.dispose();
  });

  it('few-row products (the unpacked gemm path) for every transpose combination', async () => {
    for (const m of [1, 3, 4, 5]) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        await expectNativeMatchesCpu([ta ? [37, m] : [m, 37], tb ? [45, 37] : [37, 45]], (a, b) => tf.matMul(a, b, ta, tb));
      }
    }
  });

  it('concat along every axis (and its gradient)', async () => {
    for (const axis of [0, 1, 2]) {
      const shapeB = [2, 3, 4];
      shapeB[axis] = 5;
      await expectNativeMatchesCpu([[2, 3, 4], shapeB], (a, b) => tf.concat([a, b], axis));
    }
    await expectNativeMatchesCpu([[2, 3], [2, 1], [2, 4]], (a, b, c) => tf.concat([a, b, c], -1));
  });

  it('linear (fused matmul + bias) with all three gradients', async () => {
    await expectNativeMatchesCpu([[70, 33], [33, 130], [130]], (x, w, b) => linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D));
  });

  it('qkvProjection equals three scaled linear layers (values and all seven gradients)', async () => {
    const shapes = [[6, 8], [8, 8], [8, 8], [8, 8], [8], [8], [8]];
    const probe = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.concat([tf.mul(q, 1), tf.mul(k, 2), tf.mul(v, 3)], 2);
    const want = await valueAndGrads('cpu', shapes, (x, wq, wk, wv, bq, bk, bv) => {
      const lin = (w: tf.Tensor, b: tf.Tensor) => tf.reshape(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b), [2, 3, 8]);
      return probe(tf.mul(lin(wq, bq), 0.25), lin(wk, bk), lin(wv, bv));
    });
    const got = await valueAndGrads(NATIVE_BACKEND, shapes, (x, wq, wk, wv, bq, bk, bv) => {
      const [q, k, v] = qkvProjection(x as tf.Tensor2D, [wq, wk, wv] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
        [bq, bk, bv] as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D], 0.25, 2);
      return probe(q, k, v);
    });
    got.forEach((g, i) => expect(relErr(g, want[i]), `output ${i}`).toBeLessThan(1e-5));
  });

  it('gelu, layerNorm, tokenLogProbs (fused kernels)', async () => {
    await expectNativeMatchesCpu([[9, 130]], (x) => gelu(tf.mul(x, 3)));
    await expectNativeMatchesCpu([[9, 33], [33], [33]], (x, g, b) =>
      layerNorm(tf.mul(x, 4) as tf.Tensor2D, tf.add(g, 1) as tf.Tensor1D, b as tf.Tensor1D));
    const targets = [3, 0, 129, 64, 7, 7];
    await expectNativeMatchesCpu([[6, 130]], (z) => tokenLogProbs(tf.mul(z, 6) as tf.Tensor2D, tf.tensor1d(targets, 'int32')));
  });
});

describe.skipIf(!status.registered)('native dropout', () => {
  it('is tf.dropout on cpu bit for bit, values and gradient, for several rates and seeds', async () => {
    for (const [rate, seed] of [[0.1, 12345], [0.5, 4294967295], [0.3, 0]]) {
      const f = (x: tf.Tensor) => dropout(x, rate, seed);
      const want = await valueAndGrads('cpu', [[7, 300]], (x) => tf.dropout(x, rate, undefined, seed));
      const got = await valueAndGrads(NATIVE_BACKEND, [[7, 300]], f);
      expect(got[0]).toEqual(want[0]);
      expect(got[1]).toEqual(want[1]);
      // a real mask: about `rate` of the units are zero
      const zeros = got[0].filter((v) => v === 0).length / got[0].length;
      expect(Math.abs(zeros - rate)).toBeLessThan(0.05);
    }
    await tf.setBackend('cpu');
  });

  it('starts from the seeding seedrandom.alea does (first draws of tf.randomUniform)', async () => {
    await tf.setBackend('cpu');
    const s = aleaState('42');
    const draws: number[] = [];
    let { s0, s1, s2, c } = s;
    for (let i = 0; i < 4; i++) {
      const t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      draws.push(Math.fround(s2));
    }
    const u = tf.randomUniform([4], 0, 1, 'float32', 42);
    expect(Array.from(u.dataSync())).toEqual(draws);
    u.dispose();
  });
});

const cfg = { vocabSize: 40, contextLength: 24, dModel: 32, nHeads: 4, nLayers: 2, dropout: 0.1, seed: 5 };

function toyBatch(seed: number) {
  const rng = new Rng(seed);
  const examples = Array.from({ length: 4 }, () => {
    const n = 6 + rng.int(10);
    const seq = Array.from({ length: n }, () => 1 + rng.int(39));
    return { prompt: seq.slice(0, n - 4), completion: seq.slice(n - 4) };
  });
  return makeBatch(examples, { contextLength: 24 });
}

/** Loss and every parameter gradient of a seeded dropout forward, on one backend. */
async function lossAndGrads(backend: string, maskedHead: boolean | 'auto' = false) {
  await tf.setBackend(backend);
  const model = new DecoderLM(cfg);
  const batch = toyBatch(3);
  const { value, grads } = tf.variableGrads(
    () => lmLoss(model, batch, { training: true, dropoutSeed: 77, maskedHead }),
    [...model.params().values()],
  );
  const out = { loss: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe.skipIf(!status.registered)('DecoderLM on lref-native matches cpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('loss and all parameter gradients with dropout on (same masks), full and masked head', async () => {
    const want = await lossAndGrads('cpu');
    expect(want.grads.length).toBe(2 + 2 * 16 + 2);
    for (const masked of [false, true]) {
      const got = await lossAndGrads(NATIVE_BACKEND, masked);
      expect(Math.abs(got.loss - want.loss), `loss, maskedHead=${masked}`).toBeLessThan(1e-5);
      got.grads.forEach((g, i) => expect(relErr(g, want.grads[i]), `gradient ${i}, maskedHead=${masked}`).toBeLessThan(1e-4));
    }
  });

  it('a 5-step training trace stays within 1e-5 of cpu, and leaks no tensors', async () => {
    const trace = async (backend: string) => {
      await tf.setBackend(backend);
      const model = new DecoderLM(cfg);
      const opt = makeOptimizer(model, TrainConfig.parse({}));
      const batch = toyBatch(4);
      trainStep(model, opt, batch, { lr: 3e-3, clipNorm: 1, dropoutSeed: 0 });
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      const norms: number[] = [];
      for (let s = 1; s <= 5; s++) {
        const r = trainStep(model, opt, batch, { lr: 3e-3, clipNorm: 0.5, dropoutSeed: s });
        losses.push(r.loss);
        norms.push(r.gradNorm);
      }
      expect(tf.memory().numTensors).toBe(before);
      opt.dispose();
      model.dispose();
      return { losses, norms };
    };
    const want = await trace('cpu');
    const got = await trace(NATIVE_BACKEND);
    got.losses.forEach((l, i) => expect(Math.abs(l - want.losses[i]), `loss at step ${i + 1}`).toBeLessThan(1e-5));
    got.norms.forEach((n, i) => expect(Math.abs(n - want.norms[i]) / want.norms[i], `norm at step ${i + 1}`).toBeLessThan(1e-5));
    expect(want.losses[4]).toBeLessThan(want.losses[0]); // it did train
  });

  it('KV-cache decoding ([B,t,D] keys and values) equals the full forward, and a cache keeps its layout', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = new DecoderLM({ ...cfg, dropout: 0 });
    const seq = [3, 9, 1, 22, 17, 5, 30, 2];
    const full = tf.tidy(() => model.forward(tf.tensor2d([seq], undefined, 'int32'))).arraySync()[0];
    const cache = new KVCache();
    const first = model.decode(tf.tensor2d([seq.slice(0, 5)], undefined, 'int32'), cache);
    expect(relErr(first.dataSync(), full[4])).toBeLessThan(1e-5);
    first.dispose();
    for (let i = 5; i < seq.length; i++) {
      const step = model.decode(tf.tensor2d([[seq[i]]], undefined, 'int32'), cache);
      expect(relErr(step.dataSync(), full[i])).toBeLessThan(1e-5);
      step.dispose();
    }
    expect(cache.layout).toBe('tokens');
    expect(cache.keys[0].shape).toEqual([1, 8, 32]);
    await tf.setBackend('cpu');
    expect(() => model.decode(tf.tensor2d([[1]], undefined, 'int32'), cache)).toThrow(/holds tokens layout/);
    cache.dispose();
    model.dispose();
  });
});
