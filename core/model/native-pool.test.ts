import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { PooledCpuBackend, sizeClass } from './native-pool.ts';
import { DecoderLM } from './gpt.ts';
import { TrainConfig } from './config.ts';
import { makeOptimizer } from '../train/loop.ts';
import { trainStep } from '../train/step.ts';
import { makeBatch } from '../train/batch.ts';

const status = nativeBackendStatus();
if (!status.registered) console.warn(`native pool tests skipped: ${status.reason}`);

const N = 64 * 128; // above the pooling threshold

function pool(): PooledCpuBackend {
  const b = tf.backend();
  if (!(b instanceof PooledCpuBackend)) throw new Error('not the pooled backend');
  return b;
}

/** A native kernel output of N floats (pool-made), all equal to v. */
function pooledTensor(v: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.zeros([64, 128]), v));
}

describe.skipIf(!status.registered)('native output-array pool', () => {
  beforeAll(async () => {
    await tf.setBackend(NATIVE_BACKEND);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reuses the array of a disposed kernel output for the next output of that length', () => {
    const a = pooledTensor(1);
    const before = pool().poolStats().arrays;
    a.dispose();
    expect(pool().poolStats().arrays).toBe(before + 1);
    const b = pooledTensor(2);
    expect(pool().poolStats().arrays).toBe(before); // taken back out
    expect(Array.from(b.dataSync().slice(0, 3))).toEqual([2, 2, 2]);
    b.dispose();
  });

  it('rounds lengths up to a size class with at most 25% slack', () => {
    expect(sizeClass(4096)).toBe(4096);
    expect(sizeClass(4097)).toBe(5120);
    expect(sizeClass(6000)).toBe(6144);
    for (const n of [4099, 7777, 65537, 123457, 1 << 22]) {
      expect(sizeClass(n)).toBeGreaterThanOrEqual(n);
      expect(sizeClass(n)).toBeLessThanOrEqual(n * 1.25);
    }
  });

  it('serves a request of another length in the same size class from a pooled buffer, as a view of that length', () => {
    const backend = pool();
    const a = backend.alloc(5000);
    const t = tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo([5000], 'float32', a));
    const before = backend.poolStats();
    t.dispose();
    expect(backend.poolStats().floats).toBe(before.floats + sizeClass(5000));
    const b = backend.alloc(4900); // a batch one token shorter: same class
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(4900);
    expect(backend.poolStats()).toEqual(before);
    const u = tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo([4900], 'float32', b.fill(7)));
    expect(u.dataSync().length).toBe(4900);
    u.dispose();
  });

  it('when full, frees the buffers of the least recently used sizes first', () => {
    const small = new PooledCpuBackend(3 * 8192); // room for three buffers of 8,192 floats
    const release = (n: number) => small.disposeData(small.makeTensorInfo([n], 'float32', small.alloc(n)).dataId);
    const held = [8192, 8192, 6144].map((n) => small.makeTensorInfo([n], 'float32', small.alloc(n)));
    for (const t of held) small.disposeData(t.dataId); // idle: 8192, 8192, 6144
    expect(small.poolStats()).toEqual({ arrays: 3, floats: 22528 });
    release(4096); // needs 4,096 more: one 8,192 buffer (the older size) goes
    expect(small.poolStats()).toEqual({ arrays: 3, floats: 8192 + 6144 + 4096 });
    expect(small.alloc(6144).buffer.byteLength).toBe(6144 * 4); // the recent size is still there
    expect(small.poolStats().floats).toBe(8192 + 4096);
    small.dispose();
  });

  it('never recycles an array that was read out: dataSync results stay valid after dispose', () => {
    const a = pooledTensor(3);
    const values = a.dataSync();
    a.dispose();
    const others = Array.from({ length: 4 }, (_, i) => pooledTensor(10 + i));
    expect(values[0]).toBe(3);
    expect(values[N - 1]).toBe(3);
    tf.dispose(others);
  });

  it('never recycles an array another tensor views (the cpu slice kernel returns subarrays)', () => {
    const a = pooledTensor(4);
    const view = tf.slice(a, [0, 0], [32, 128]); // contiguous: a view of a's array
    a.dispose();
    const others = Array.from({ length: 4 }, (_, i) => pooledTensor(20 + i));
    expect(view.dataSync()[0]).toBe(4);
    expect(view.dataSync()[32 * 128 - 1]).toBe(4);
    tf.dispose([view, ...others]);
  });

  it('never recycles an array stored under two data ids', () => {
    const backend = pool();
    const arr = backend.alloc(N).fill(5);
    const t1 = tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo([N], 'float32', arr));
    const t2 = tf.engine().makeTensorFromTensorInfo(backend.makeTensorInfo([N], 'float32', arr));
    const before = backend.poolStats().arrays;
    t1.dispose();
    expect(backend.poolStats().arrays).toBe(before);
    expect(t2.dataSync()[0]).toBe(5);
    t2.dispose();
  });

  it('never pools arrays a caller handed in', () => {
    const mine = new Float32Array(N).fill(6);
    const t = tf.tensor1d(mine);
    const before = pool().poolStats().arrays;
    t.dispose();
    expect(pool().poolStats().arrays).toBe(before);
    const others = Array.from({ length: 3 }, (_, i) => tf.tidy(() => tf.add(tf.zeros([N]), 30 + i)));
    expect(mine[0]).toBe(6);
    tf.dispose(others);
  });

  it('training steps reuse pooled arrays: the pool holds a steady set, and losses are reproducible', () => {
    const cfg = { vocabSize: 64, contextLength: 32, dModel: 64, nHeads: 4, nLayers: 1, dropout: 0.1, seed: 2 };
    const examples = Array.from({ length: 4 }, (_, i) => ({
      prompt: Array.from({ length: 20 }, (_, j) => 1 + ((i * 7 + j * 3) % 60)),
      completion: [2, 3, 4, 5, 6],
    }));
    const batch = makeBatch(examples, { contextLength: 32 });
    const run = () => {
      const model = new DecoderLM(cfg);
      const opt = makeOptimizer(model, TrainConfig.parse({}));
      const losses: number[] = [];
      const pooled: number[] = [];
      for (let s = 0; s < 4; s++) {
        losses.push(trainStep(model, opt, batch, { lr: 3e-3, clipNorm: 1, dropoutSeed: s }).loss);
        pooled.push(pool().poolStats().arrays);
      }
      opt.dispose();
      model.dispose();
      return { losses, pooled };
    };
    const a = run();
    const b = run(); // now with a warm, dirty pool
    expect(b.losses).toEqual(a.losses);
    expect(a.pooled[3]).toBeGreaterThan(0);
    expect(a.pooled[3]).toBe(a.pooled[2]);
  });
});
