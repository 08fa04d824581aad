/**
 * Runs bench/torch_ref.py (PyTorch from Debian's python3-torch) with OPENBLAS_NUM_THREADS=1 and
 * 2 torch threads, and returns its figures — or why there are none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../core/util/paths.ts';

const Figures = z.object({
  trainTokensPerSec: z.number(),
  scorePairsPerSec: z.number(),
  genTokensPerSec: z.number(),
  genBatchTokensPerSec: z.record(z.string(), z.number()).optional(),
  /** the tokens PyTorch generated at the largest batch (compared with ours) */
  genBatchTokens: z.array(z.array(z.number())).optional(),
  params: z.number(),
});
export const TorchResult = z.object({
  torch: z.string(),
  numpy: z.string(),
  threads: z.number(),
  peak: z.object({ torchGflops: z.number(), numpyGflops: z.number() }),
  presets: z.record(z.string(), Figures),
});
export type TorchResult = z.infer<typeof TorchResult>;

export const PYTHON = process.env.LREF_PYTHON ?? '/usr/bin/python3';

export function runTorchReference(presets: Record<string, unknown>, opts: { threads: number; repeat: number; steps: number }):
  { ok: true; result: TorchResult } | { ok: false; reason: string } {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { ok: false, reason: 'PyTorch is not installed (apt-get install -y python3-torch libopenblas0-pthread)' };
  }
  const script = join(repoRoot(), 'bench', 'torch_ref.py');
  const r = spawnSync(PYTHON, [script, '--presets', JSON.stringify(presets), '--threads', String(opts.threads),
    '--repeat', String(opts.repeat), '--steps', String(opts.steps)], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(opts.threads) },
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) return { ok: false, reason: `torch_ref.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return { ok: true, result: TorchResult.parse(JSON.parse(r.stdout)) };
  } catch (e) {
    return { ok: false, reason: `torch_ref.py printed unreadable output: ${e instanceof Error ? e.message : String(e)}` };
  }
}
