/**
 * Dropout that is tf.dropout bit for bit, as one native kernel on 'lref-native'.
 *
 * tf.dropout draws its mask with tf.randomUniform — a JavaScript loop over seedrandom's Alea
 * generator, ~20 ns per element — then runs add, floor, div and mul over it: five ops and a
 * slow loop for every dropout site (the attention probabilities alone are B·H·T² elements).
 * Here the seeding (a string hash, cheap) happens in JS exactly as seedrandom does it, and the
 * kernel continues the same Alea recurrence in C++, rounds each draw to float32 as the
 * Float32Array store would, and forms floor(u + keep) / keep and x·mask in float32 — the same
 * IEEE operations TF.js's kernels perform. So a seeded run drops the same units on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native-addon.ts';
import { outputArray } from './native-pool.ts';
import { f32 } from './native-kernels.ts';
import { onNative } from './native-ops.ts';

const DROPOUT = 'LrefDropout';

export interface AleaState {
  s0: number;
  s1: number;
  s2: number;
  c: number;
}

/** seedrandom's Mash string hash (lib/alea.js), step for step in doubles. */
function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
}

/** The state seedrandom.alea(seed) starts from (what tf.randomUniform(…, seed) uses). */
export function aleaState(seed: string): AleaState {
  const m = mash();
  let s0 = m(' ');
  let s1 = m(' ');
  let s2 = m(' ');
  s0 -= m(seed);
  if (s0 < 0) s0 += 1;
  s1 -= m(seed);
  if (s1 < 0) s1 += 1;
  s2 -= m(seed);
  if (s2 < 0) s2 += 1;
  return { s0, s1, s2, c: 1 };
}

/**
 * tf.dropout(x, rate, undefined, seed) — same values on every backend; one kernel (and a
 * one-multiply gradient, dy·mask) on 'lref-native'. An integer seed is required: without one
 * tf.dropout would draw a random seed, and this op exists for seeded, reproducible training.
 */
export function dropout<R extends tf.Tensor>(x: R, rate: number, seed: number): R {
  if (rate === 0) return x;
  if (!onNative() || x.dtype !== 'float32') return tf.dropout(x, rate, undefined, seed) as R;
  const attrs = { ...aleaState(seed.toString()), keep: 1 - rate } as unknown as NamedAttrMap;
  const [y, mask] = tf.engine().runKernel(DROPOUT, { x }, attrs) as tf.Tensor[];
  mask.dispose(); // the gradient keeps its own reference (outputsToSave)
  return y as R;
}

type Args = { inputs: Record<string, TensorInfo>; backend: MathBackendCPU; attrs?: NamedAttrMap };

export function dropoutKernelConfigs(addon: NativeAddon, backendName: string): KernelConfig[] {
  const kernelFunc = ({ inputs, backend, attrs }: Args) => {
    const { x } = inputs;
    const a = attrs as unknown as AleaState & { keep: number };
    const n = tf.util.sizeFromShape(x.shape);
    const y = outputArray(backend, n);
    const mask = outputArray(backend, n);
    // keep is rounded to float32 as TF.js's scalar tensor of it would be.
    if (n > 0) addon.dropout(f32(backend, x), y, mask, a.s0, a.s1, a.s2, a.c, Math.fround(a.keep));
    return [backend.makeTensorInfo(x.shape, 'float32', y), backend.makeTensorInfo(x.shape, 'float32', mask)];
  };
  return [{ kernelName: DROPOUT, backendName, kernelFunc: kernelFunc as unknown as KernelFunc }];
}

let gradientRegistered = false;

export function registerDropoutGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: DROPOUT,
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const dy = (dys as tf.Tensor[])[0];
      return { x: () => tf.mul(dy, saved[0]) };
    },
  });
}
