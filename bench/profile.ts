/**
 * Where a training step's time goes, per TF.js kernel (tf.profile), on one backend:
 *   npx tsx bench/profile.ts [backend=lref-native] [preset=tiny]
 * Kernel times include TF.js's per-kernel bookkeeping; customGrad scopes ("unnamed scope") also
 * contain the kernels inside them, so they are listed but not added to the total.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../core/model/native-backend.ts';
import { initBackend } from '../core/model/backend.ts';
import { DecoderLM } from '../core/model/gpt.ts';
import { TrainConfig } from '../core/model/config.ts';
import { makeOptimizer } from '../core/train/loop.ts';
import { trainStep } from '../core/train/step.ts';
import { randomBatch } from './model-bench.ts';
import { workload, type BenchPresetName } from './presets.ts';

const backend = await initBackend(process.argv[2] ?? 'lref-native');
const w = workload((process.argv[3] ?? 'tiny') as BenchPresetName);
const model = new DecoderLM(w.model);
const optimizer = makeOptimizer(model, TrainConfig.parse({ lr: w.lr }));
const batch = randomBatch(w);
const step = () => trainStep(model, optimizer, batch, { lr: w.lr, clipNorm: 1, dropoutSeed: 1 });
step();
const t0 = performance.now();
step();
const wall = performance.now() - t0;
const info = await tf.profile(() => {
  step();
});
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const a = byKernel.get(key) ?? { ms: 0, calls: 0 };
  a.ms += Number(k.kernelTimeMs);
  a.calls += 1;
  byKernel.set(key, a);
}
const total = [...byKernel].filter(([k]) => !k.startsWith('unnamed')).reduce((s, [, a]) => s + a.ms, 0);
console.log(`${backend}: step ${wall.toFixed(1)} ms wall, ${total.toFixed(1)} ms in ${info.kernels.length} kernels`);
for (const [k, a] of [...byKernel].sort((p, q) => q[1].ms - p[1].ms).slice(0, 30)) {
  console.log(`${a.ms.toFixed(2).padStart(8)} ms ${String(a.calls).padStart(4)}x  ${k}`);
}
model.dispose();
optimizer.dispose();
