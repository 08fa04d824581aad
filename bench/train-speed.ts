/**
 * Training throughput of the tiny preset (batch 16, full 128-token rows) on one backend.
 *   npx tsx bench/train-speed.ts [backend] [steps]      e.g. npx tsx bench/train-speed.ts wasm 5
 * Prints the backend actually running, per-step time and tokens/s (first step excluded: warm-up).
 */
import { loadavg } from 'node:os';
import { initBackend } from '../core/model/backend.ts';
import { DecoderLM } from '../core/model/gpt.ts';
import { tiny } from '../core/model/presets.ts';
import { makeOptimizer } from '../core/train/loop.ts';
import { makeBatch } from '../core/train/batch.ts';
import { trainStep } from '../core/train/step.ts';
import { Rng } from '../core/util/rng.ts';

const backend = await initBackend(process.argv[2]);
const steps = Number(process.argv[3] ?? 5);
const model = new DecoderLM({ ...tiny.model, dropout: Number(process.env.DROPOUT ?? tiny.model.dropout) });
const opt = makeOptimizer(model, tiny.train);
const rng = new Rng(7);
const { contextLength: C, vocabSize: V } = model.config;
const examples = Array.from({ length: tiny.train.batchSize }, () => {
  const seq = Array.from({ length: C + 1 }, () => 1 + rng.int(V - 1));
  return { prompt: seq.slice(0, C - 15), completion: seq.slice(C - 15) };
});
const batch = makeBatch(examples, { contextLength: C });
console.log(`backend=${backend} params=${model.numParams()} batch=${batch.batchSize}x${batch.seqLen} dropout=${model.config.dropout}`);
const times: number[] = [];
for (let s = 0; s <= steps; s++) {
  const t0 = performance.now();
  const { loss, gradNorm } = trainStep(model, opt, batch, { lr: 1e-3, clipNorm: 1, dropoutSeed: s });
  const ms = performance.now() - t0;
  if (s > 0) times.push(ms);
  console.log(`step ${s} loss ${loss.toFixed(4)} gnorm ${gradNorm.toFixed(3)} ${ms.toFixed(0)} ms ${(batch.tokens / (ms / 1000)).toFixed(0)} tok/s`);
}
// The median resists other processes on a shared machine; the best step shows what it can do.
const median = times.slice().sort((a, b) => a - b)[Math.floor(times.length / 2)];
const best = Math.min(...times);
const tps = (ms: number) => (batch.tokens / (ms / 1000)).toFixed(0);
console.log(`RESULT backend=${backend} median ${median.toFixed(0)} ms/step (${tps(median)} tokens/s), best ${best.toFixed(0)} ms (${tps(best)} tokens/s), load average ${loadavg()[0].toFixed(2)}`);
model.dispose();
opt.dispose();
