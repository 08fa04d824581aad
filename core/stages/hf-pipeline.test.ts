import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from '../model/native-backend.ts';
import { importHF } from '../model/hf/load.ts';
import { loadDecisions } from '../analysis/load-decisions.ts';
import { exportBundle } from '../export/bundle.ts';
import { readRun } from '../runs/store.ts';
import { RUN_FILES } from '../runs/schema.ts';
import { loadHFAdapter, predictHF } from './hf-relevance.ts';
import { loadPipelineConfig, pipelineConfigOf } from './pipeline-config.ts';
import { runPipeline } from './pipeline.ts';
import { pipelineInputs } from '../cli/commands/pipeline.ts';

// `lref pipeline --model`: the smoke preset's data, split and stage layout on a tiny random Llama
// (GQA 4/2) written by the PyTorch reference script; steps cut so it finishes in a couple of minutes.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, '..', 'model', 'hf', 'testdata', 'hf_ref.py');
const haveTorch = spawnSync(PY, ['-c', 'import torch, regex'], { encoding: 'utf8' }).status === 0;

let root: string;
let backend: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lref-hf-pipeline-'));
  backend = nativeBackendStatus().registered ? NATIVE_BACKEND : 'cpu';
  await tf.setBackend(backend);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!haveTorch)('lref pipeline on an imported model', () => {
  it('writes a complete run folder: every label variant as LoRA adapters, selection, label DPO; no tensor leak', { timeout: 900_000 }, async () => {
    const src = join(root, 'src');
    execFileSync(PY, [REF, 'make', src, '--arch', 'llama', '--kv-heads', '2', '--positions', '384', '--std', '0.05']);
    const modelDir = join(root, 'model');
    importHF(src, modelDir);
    const cfg = loadPipelineConfig({
      preset: 'smoke',
      overrides: { hf: { dir: modelDir, lora: { rank: 4, alpha: 8, dropout: 0 } }, train: { steps: 16 }, selection: { auxSteps: 6 }, dpo: { minePairs: 16 } },
    });
    const out = join(root, 'run');
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r = await runPipeline(cfg, { outDir: out, backend, log: (l) => lines.push(l), now: new Date('2026-12-02T11:00:00Z') });
    expect(tf.memory().numTensors).toBe(before);

    const names = ['lexical', 'zero_shot', 'sft_all', 'sft_random', 'sft_selected', '+dpo'];
    expect(r.metrics.map((m) => m.name)).toEqual(names);
    expect(r.validMetrics.map((m) => m.name)).toEqual(names);
    for (const m of r.metrics) expect(Number.isFinite(m.macro_f1) && m.n > 0).toBe(true);
    expect(lines.some((l) => l.startsWith('cross_encoder: skipped'))).toBe(true);
    expect(r.training.sft_all.steps).toBe(16);
    expect(r.training['+dpo'].steps).toBeGreaterThan(0);
    // a fresh policy's first DPO loss is ln 2 (policy = reference)
    expect(r.training['+dpo'].losses[0]).toBeCloseTo(Math.log(2), 4);

    // readRun validates every file against its schema
    const run = readRun(out);
    expect(run.run.variants).toEqual(names);
    expect(pipelineConfigOf(run.run.config, out).hf?.dir).toBe(modelDir);
    expect(run.selection).toHaveLength(run.run.data.split.train);
    expect(run.selection.some((s) => s.kept)).toBe(true);
    for (const v of names) expect(run.predictions.filter((p) => p.variant === v)).toHaveLength(run.pairs.length);

    // a checkpoint reloads (base + PEFT adapters) to the probabilities the run recorded
    const ckpt = join(out, RUN_FILES.checkpoints, 'sft_selected');
    const rm = loadHFAdapter(ckpt);
    try {
      const again = predictHF(rm, run.pairs);
      const recorded = run.predictions.filter((p) => p.variant === 'sft_selected');
      let worst = 0;
      again.forEach((p, i) => {
        for (const [l, v] of Object.entries(p.probs)) worst = Math.max(worst, Math.abs(v - recorded[i].probs![l]));
      });
      expect(worst).toBeLessThan(1e-4);
    } finally {
      rm.model.dispose();
    }
    expect(existsSync(join(out, RUN_FILES.checkpoints, '+dpo', 'adapter_model.safetensors'))).toBe(true);

    // the app's decision matrix reads it; a bundle export names what to do instead
    const table = loadDecisions([{ dir: out, name: 'hf' }]);
    expect(table.columns.map((c) => c.variant)).toEqual(expect.arrayContaining(['zero_shot', 'sft_selected', '+dpo']));
    await expect(exportBundle(out, { variant: 'sft_selected', out: join(root, 'bundle') })).rejects.toThrow(/LoRA adapters on an imported Hugging Face model.*lref model export/);
    expect(existsSync(join(root, 'bundle'))).toBe(false);

    // a finished run is never overwritten
    await expect(runPipeline(cfg, { outDir: out, backend })).rejects.toThrow(/already holds a finished run/);
  });
});

describe('the hf config field', () => {
  it('--model fills hf.dir with the defaults; a typo is named by its key path; hf with pretrained is refused', async () => {
    const { overrides } = pipelineInputs({ values: { model: 'models/m' }, positionals: [] });
    const cfg = loadPipelineConfig({ preset: 'smoke', overrides });
    expect(cfg.hf).toEqual({ dir: 'models/m', contextLength: 256, lora: { rank: 8, alpha: 16, dropout: 0.05, targets: [] } });
    expect(() => loadPipelineConfig({ preset: 'smoke', overrides: { hf: { dir: 'm', lora: { rnk: 4 } } } })).toThrow(/hf\.lora\.rnk: unknown key/);
    await expect(runPipeline({ ...cfg, pretrained: 'p' }, { outDir: join(root, 'never'), backend: 'cpu' })).rejects.toThrow(/hf and pretrained both name a base model/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
