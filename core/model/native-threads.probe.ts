/**
 * tf.matMul on 'lref-native' from the main thread and a worker_thread at once, with setThreads
 * called from both while the other runs kernels; prints "wrong <main> <worker>" (results that
 * differ from the exact product). Run as a child process by native-safety.test.ts: the failure
 * modes are garbage results (one process-wide thread pool shared by two callers) and a deadlock.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from './native-backend.ts';
import { loadNativeAddon } from './native-addon.ts';

const M = 60;
const K = 150;
const N = 100; // 6000 results per product; 1.8 MFLOP, enough for the kernel to use the pool
const ROUNDS = 300;

/** Integer-valued matrices whose product is exact in float32. */
function operands(seed: number): { a: Float32Array; b: Float32Array; want: Float64Array } {
  const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7 + seed) % 11) - 5);
  const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 13 + seed) % 7) - 3);
  const want = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) want[i * N + j] += a[i * K + k] * b[k * N + j];
  return { a, b, want };
}

/** Both threads set up, then meet here, so their kernels really run at the same time. */
function barrier(shared: SharedArrayBuffer): void {
  const count = new Int32Array(shared);
  Atomics.add(count, 0, 1);
  while (Atomics.load(count, 0) < 2) Atomics.wait(count, 0, 1, 10);
}

async function wrongResults(seed: number, shared: SharedArrayBuffer): Promise<number> {
  const status = nativeBackendStatus();
  if (!status.registered) throw new Error(status.reason);
  await tf.setBackend(NATIVE_BACKEND);
  const { a, b, want } = operands(seed);
  const addon = loadNativeAddon();
  barrier(shared);
  let wrong = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (addon.available && r % 50 === 25 * (seed % 2)) addon.addon.setThreads(1 + (Math.floor(r / 50) % 2));
    const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N])).dataSync());
    for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) wrong++;
  }
  return wrong;
}

if (isMainThread) {
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const shared = new SharedArrayBuffer(4);
  const worker = new Worker(boot, { eval: true, workerData: shared });
  const fromWorker = new Promise<number>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  const main = await wrongResults(1, shared);
  const other = await fromWorker;
  await worker.terminate();
  console.log(`wrong ${main} ${other}`);
} else {
  parentPort!.postMessage(await wrongResults(2, workerData as SharedArrayBuffer));
}
