/**
 * `lref bench --hf`: a 135M-parameter Llama-shaped model (SmolLM2-135M's shape: 30 layers × 576,
 * 9 heads on 3 kv heads, SwiGLU 1536, vocab 49152, tied head) with random bf16 weights written by
 * the test reference script, imported, then timed against PyTorch on the same safetensors in the
 * same run: relevance pairs scored per second (one forward per batch, grade-token logits at the
 * last position) and one LoRA training step (rank 8 on every projection, base frozen).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { importHF, loadHFModel } from '../core/model/hf/load.ts';
import { specParamCount } from '../core/model/hf/config.ts';
import { scoreLabels } from '../core/train/score.ts';
import { makeBatch } from '../core/train/batch.ts';
import { makeOptimizer } from '../core/train/loop.ts';
import { trainStep } from '../core/train/step.ts';
import { TrainConfig } from '../core/model/config.ts';
import { Rng } from '../core/util/rng.ts';
import { repoRoot } from '../core/util/paths.ts';
import { PYTHON } from './torch-ref.ts';

export interface HFBenchOptions {
  batch: number;
  seq: number;
  repeat: number;
  threads: number;
  torch: boolean;
}

const SHAPE = ['--arch', 'llama', '--hidden', '576', '--layers', '30', '--heads', '9', '--kv-heads', '3', '--intermediate', '1536',
  '--positions', '2048', '--rope-theta', '100000', '--tie', '--dtype', 'BF16', '--vocab-size', '49152', '--std', '0.02'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runHFBench(o: HFBenchOptions, log: (s: string) => void): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'lref-hf-bench-'));
  const ref = join(repoRoot(), 'core', 'model', 'hf', 'testdata', 'hf_ref.py');
  try {
    const src = join(root, 'src');
    log('hf bench: writing a random SmolLM2-135M-shaped checkpoint (bf16)…');
    const mk = spawnSync(PYTHON, [ref, 'make', src, ...SHAPE], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`hf_ref.py make failed: ${mk.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    const rss0 = process.memoryUsage().rss;
    let t = performance.now();
    const rec = importHF(src, join(root, 'imported'));
    const importS = (performance.now() - t) / 1000;
    const importRssMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
    const model = loadHFModel(join(root, 'imported'), { contextLength: o.seq });
    const rng = new Rng(7);
    const prompts = Array.from({ length: o.batch }, () => Array.from({ length: o.seq }, () => rng.int(rec.spec.vocabSize)));
    const grades = [100, 200, 300, 400, 500];
    log(`hf bench: ${(specParamCount(rec.spec) / 1e6).toFixed(1)}M parameters on ${tf.getBackend()}; scoring batches of ${o.batch} × ${o.seq} tokens…`);
    scoreLabels(model, prompts, grades, o.batch); // warm-up
    const scoreTimes: number[] = [];
    for (let r = 0; r < o.repeat; r++) {
      t = performance.now();
      scoreLabels(model, prompts, grades, o.batch);
      scoreTimes.push((performance.now() - t) / 1000);
    }
    model.attachLora({ rank: 8, alpha: 16, dropout: 0 });
    const cfg = TrainConfig.parse({ lr: 1e-4, warmup: 0, weightDecay: 0 });
    const optimizer = makeOptimizer(model, cfg);
    const batch = makeBatch(prompts.map((p) => ({ prompt: p.slice(0, 1), completion: p.slice(1) })), { contextLength: o.seq, padTo: 'longest' });
    log('hf bench: LoRA steps…');
    const stepTimes: number[] = [];
    for (let r = 0; r < Math.max(2, o.repeat); r++) {
      t = performance.now();
      trainStep(model, optimizer, batch, { lr: 1e-4, clipNorm: 1 });
      if (r > 0) stepTimes.push((performance.now() - t) / 1000); // the first step is warm-up
    }
    optimizer.dispose();
    const trainable = model.numTrainable();
    model.dispose();
    const ours = { backend: tf.getBackend(), score_pairs_per_s: o.batch / median(scoreTimes), lora_step_s: median(stepTimes), lora_params: trainable };
    let torch: Record<string, unknown> | { error: string } | undefined;
    if (o.torch) {
      log('hf bench: PyTorch on the same checkpoint…');
      const r = spawnSync(PYTHON, [join(repoRoot(), 'bench', 'hf_torch.py'), src, '--batch', String(o.batch), '--seq', String(o.seq),
        '--repeat', String(o.repeat), '--threads', String(o.threads), '--grades', grades.join(',')], {
        encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(o.threads) }, maxBuffer: 1 << 20,
      });
      torch = r.status === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : { error: r.stderr.trim().split('\n').slice(-2).join(' | ') };
    }
    return {
      model: { shape: 'SmolLM2-135M (random weights)', params: specParamCount(rec.spec), batch: o.batch, seq: o.seq },
      import: { seconds: importS, rss_growth_mb: importRssMb },
      ours,
      torch,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
