import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../util/errors.ts';

/**
 * The backend ladder: the fastest backend that loads on this machine, unless the caller or
 * LREF_BACKEND names one. Every run prints the name returned here, because a loss trace is only
 * comparable with one from the same backend.
 *
 * Rungs (first that loads wins):
 *   tensorflow  via @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node (optional packages)
 *   lref-native the project's native-kernel backend (core/model/native-backend.ts), when its addon is built
 *   wasm        @tensorflow/tfjs-backend-wasm (single thread here; ~15x faster than cpu for training)
 *   cpu         pure JS, always there, slowest
 */
export const BACKEND_LADDER = ['tensorflow', 'lref-native', 'wasm', 'cpu'] as const;

/** Loads the packages a backend needs; true when it is then registered with tfjs-core. */
async function load(name: string): Promise<boolean> {
  if (name === 'tensorflow') {
    // Names in variables so bundlers and tsc do not insist on optional packages being installed.
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ pkg);
        if (tf.findBackendFactory('tensorflow')) return true;
      } catch {
        // Not installed or its native library failed to load: try the next rung.
      }
    }
    return false;
  }
  if (name === 'lref-native') {
    try {
      // Registers the backend on import when the addon in native/ is built; registers nothing otherwise.
      await import('./native-backend.ts');
    } catch {
      return false;
    }
  }
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch {
      return false;
    }
  }
  return tf.findBackendFactory(name) !== null && tf.findBackendFactory(name) !== undefined;
}

/**
 * The cpu backend (and lref-native, built on it) prints "install our node backend" on its first
 * tensor in Node. The ladder already chose the fastest backend it could load and every run names
 * it, so the banner only clutters command output and notebook cells.
 */
function silenceNodeBanner(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (backend && 'firstUse' in backend) backend.firstUse = false;
}

async function trySet(name: string): Promise<boolean> {
  if (!(await load(name))) return false;
  try {
    const ok = await tf.setBackend(name);
    if (ok && name === 'wasm') installWasmBatchMatMul();
    if (ok) silenceNodeBanner();
    return ok;
  } catch {
    return false;
  }
}

/** The slice of the wasm backend's internals the batched-matmul kernel below needs. */
interface WasmBackendInternals {
  wasm: {
    cwrap: (name: string, ret: null, args: string[]) => (...xs: unknown[]) => void;
    tfjs: { registerTensor: (id: number, size: number, offset: number) => void; disposeData: (id: number) => void };
  };
  dataIdMap: { get: (dataId: object) => { memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput: (shape: number[], dtype: string) => tf.TensorInfo;
}

let wasmBmmInstalled = false;

/**
 * Replaces wasm's BatchMatMul for the plain case (no transpose flags, equal batch dims > 1) by a
 * loop of single-matrix products on views into the same memory. Measured here: the stock kernel
 * runs batched products (attention's [B·H,T,hd]·[B·H,hd,T]) ~3–6x slower than the sum of the
 * same products done one matrix at a time, which take wasm's fast (XNNPACK) path. Views are
 * registered as extra tensor ids over the existing buffers, so nothing is copied; the results are
 * bit-identical to the stock kernel in our tests. Any other case goes to the stock kernel.
 */
function installWasmBatchMatMul(): void {
  if (wasmBmmInstalled) return;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  const backend = tf.findBackend('wasm') as unknown as WasmBackendInternals | undefined;
  if (!stock || !backend?.wasm?.tfjs?.registerTensor || !backend.dataIdMap) return;
  const matmul = backend.wasm.cwrap('BatchMatMul', null, [
    'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
  ]);
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const lead = a.shape.slice(0, -2);
    const batch = lead.reduce((x, y) => x * y, 1);
    const plain =
      !transposeA && !transposeB && ra >= 3 && b.shape.length === ra && batch > 1 &&
      a.dtype === 'float32' && b.dtype === 'float32' && lead.every((d, i) => d === b.shape[i]);
    if (!plain) return stock.kernelFunc(args);
    const [M, K] = a.shape.slice(-2);
    const N = b.shape[ra - 1];
    const out = backend.makeOutput([...lead, M, N], 'float32');
    const pa = backend.dataIdMap.get(a.dataId).memoryOffset;
    const pb = backend.dataIdMap.get(b.dataId).memoryOffset;
    const po = backend.dataIdMap.get(out.dataId).memoryOffset;
    const sa = shapeBytes([1, M, K]);
    const sb = shapeBytes([1, K, N]);
    const { tfjs } = backend.wasm;
    for (let i = 0; i < batch; i++) {
      const ia = backend.dataIdNextNumber++;
      const ib = backend.dataIdNextNumber++;
      const io = backend.dataIdNextNumber++;
      tfjs.registerTensor(ia, M * K, pa + i * M * K * 4);
      tfjs.registerTensor(ib, K * N, pb + i * K * N * 4);
      tfjs.registerTensor(io, M * N, po + i * M * N * 4);
      matmul(ia, sa, 3, ib, sb, 3, false, false, io);
      // Forgets the ids only; the memory belongs to a, b and out.
      tfjs.disposeData(ia);
      tfjs.disposeData(ib);
      tfjs.disposeData(io);
    }
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc });
  wasmBmmInstalled = true;
}

/**
 * Selects and initialises a backend; returns the name of the one actually running.
 * `preference` (or env LREF_BACKEND) pins one backend and fails loudly if it cannot run, so a
 * benchmark never silently measures the wrong thing.
 */
export async function initBackend(preference?: string): Promise<string> {
  const pinned = preference ?? process.env.LREF_BACKEND;
  if (pinned) {
    if (!(await trySet(pinned))) {
      throw new UserError(`backend '${pinned}' is not available here (ladder: ${BACKEND_LADDER.join(' → ')})`);
    }
    await tf.ready();
    return tf.getBackend();
  }
  for (const name of BACKEND_LADDER) {
    if (await trySet(name)) {
      await tf.ready();
      return tf.getBackend();
    }
  }
  throw new Error('no TF.js backend could be initialised (even cpu failed)');
}
