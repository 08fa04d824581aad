import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from '../model/native-backend.ts';
import { getScheme } from '../data/labels.ts';
import { generateDataset } from '../data/synth/generate.ts';
import { importHF } from '../model/hf/load.ts';
import { HFJudge } from '../serve/hf-judge.ts';
import { startServer } from '../serve/server.ts';
import { dpoHF, exportHFJudge, loadExportedJudge, loadHFAdapter, loadHFJudge, predictHF, saveHFAdapter, trainHFLabels } from './hf-relevance.ts';

// The done-when chain, once per architecture, on tiny random checkpoints written by the
// PyTorch reference script: import → logits match → LoRA SFT → DPO → export → serve answers.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, '..', 'model', 'hf', 'testdata', 'hf_ref.py');
const haveTorch = spawnSync(PY, ['-c', 'import torch, regex'], { encoding: 'utf8' }).status === 0;
const CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lref-hf-chain-'));
  // lref-native where built (the tfjs cpu backend takes minutes for these steps); logits are checked on both in hf.test.ts.
  await tf.setBackend(nativeBackendStatus().registered ? NATIVE_BACKEND : 'cpu');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const scheme = getScheme('lref5');
const pairs = generateDataset({ pairs: 48, seed: 3 }).pairs.slice(0, 24);

const CASES = {
  gpt2: ['--arch', 'gpt2', '--positions', '384', '--std', '0.05'],
  // GQA (4 heads on 2 kv heads), untied head, a chat template
  llama: ['--arch', 'llama', '--kv-heads', '2', '--positions', '384', '--std', '0.05', '--dtype', 'BF16', '--chat-template', CHATML],
} as const;

describe.skipIf(!haveTorch)('import → logits → LoRA SFT → DPO → export → serve', () => {
  for (const [arch, args] of Object.entries(CASES)) {
    it(arch, async () => {
      const src = join(root, arch);
      execFileSync(PY, [REF, 'make', src, ...args]);
      const imported = join(root, `${arch}-imported`);
      importHF(src, imported);

      // logits of the imported model match the reference's forward on the original files
      const ids = [3, 14, 15, 92, 65, 35, 89, 79];
      const ref = (JSON.parse(execFileSync(PY, [REF, 'forward', src, '--ids', ids.join(',')], { encoding: 'utf8', maxBuffer: 1 << 26 })).logits as number[][]).flat();
      const rm = loadHFJudge(imported, scheme, { contextLength: 320, lora: { rank: 4, alpha: 8, dropout: 0 } });
      const ours = tf.tidy(() => rm.model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync());
      expect(Math.max(...ref.map((r, i) => Math.abs(r - ours[i])))).toBeLessThan(1e-4);

      // LoRA SFT: the loss falls, only the adapters move, no tensor leaks
      const baseName = rm.model.weightEntries()[2].name;
      const baseBefore = rm.model.weight(baseName).dataSync().slice();
      const nTensors = tf.memory().numTensors;
      const sft = trainHFLabels(rm, pairs, { steps: 12, batchSize: 8, lr: 5e-3, clipNorm: 1 });
      expect(tf.memory().numTensors).toBe(nTensors);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(sft.losses.slice(-3))).toBeLessThan(mean(sft.losses.slice(0, 3)));
      expect(Array.from(rm.model.weight(baseName).dataSync())).toEqual(Array.from(baseBefore));
      expect(rm.model.numTrainable()).toBeLessThan(rm.model.numParams() / 4);

      // DPO on the adapters: the first step is at the reference (loss ln 2), margins grow
      const dpo = dpoHF(rm, pairs, { steps: 6, lr: 5e-3, batchSize: 8 });
      expect(dpo.losses[0]).toBeCloseTo(Math.log(2), 4);
      expect(dpo.margins[dpo.margins.length - 1]).toBeGreaterThan(dpo.margins[0]);
      const policy = dpo.model;

      // a decision rule (as the pipeline fits on valid) travels with the adapters: here one that moves grades off argmax
      const plain = predictHF(policy, pairs.slice(0, 6));
      const argmaxGrades = plain.map((p) => p.label);
      // an offset that lifts another grade just above the first pair's argmax grade
      const other = scheme.labels.find((l) => l !== argmaxGrades[0])!;
      const offsets = scheme.labels.map((l) => (l === other ? Math.log(plain[0].probs[argmaxGrades[0]] / plain[0].probs[other]) + 0.5 : 0));
      const ruled = { ...policy, decision: { version: 1 as const, offsets, fitted_on: 'valid', n: 6, macro_f1: 0.5 } };
      const before = predictHF(ruled, pairs.slice(0, 6));
      expect(before.map((p) => p.label)).not.toEqual(argmaxGrades);

      // adapters saved apart from the base and loaded back give the same probabilities and grades
      const adapterDir = join(root, `${arch}-adapter`);
      saveHFAdapter(adapterDir, ruled);
      const reloaded = loadHFAdapter(adapterDir);
      expect(reloaded.decision).toEqual(ruled.decision);
      const after = predictHF(reloaded, pairs.slice(0, 6));
      for (let i = 0; i < before.length; i++) for (const l of scheme.labels) expect(after[i].probs[l]).toBeCloseTo(before[i].probs[l], 5);
      expect(after.map((p) => p.label)).toEqual(before.map((p) => p.label));

      // export merges the adapters into the base: the merged model grades as the adapter model does, by the same rule
      const exported = join(root, `${arch}-export`);
      exportHFJudge(reloaded, exported);
      reloaded.model.dispose();
      const merged = loadExportedJudge(exported);
      const m = predictHF(merged, pairs.slice(0, 6));
      for (let i = 0; i < before.length; i++) for (const l of scheme.labels) expect(m[i].probs[l]).toBeCloseTo(before[i].probs[l], 4);
      expect(m.map((p) => p.label)).toEqual(before.map((p) => p.label));
      merged.model.dispose();
      // a rule with the wrong number of offsets is refused, naming the file
      const cfgFile = join(adapterDir, 'adapter_config.json');
      const ac = JSON.parse(readFileSync(cfgFile, 'utf8'));
      writeFileSync(cfgFile, JSON.stringify({ ...ac, lref: { ...ac.lref, decision: { ...ruled.decision, offsets: [0, 1] } } }));
      expect(() => loadHFAdapter(adapterDir)).toThrow(/adapter_config\.json: decision\.offsets: 2 offsets for 5 labels/);

      // and `lref serve` answers with it
      const judge = HFJudge.load(exported);
      const running = await startServer(judge, { port: 0 });
      try {
        const res = await fetch(`${running.url}/v1/relevance`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pairs: pairs.slice(0, 3).map((p) => ({ query: p.query, title: p.title })) }),
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { results: Array<{ grade: string; probs: Record<string, number> }> };
        expect(body.results.map((r) => r.grade)).toEqual(before.slice(0, 3).map((b) => b.label));
        for (let i = 0; i < 3; i++) expect(body.results[i].probs[scheme.labels[0]]).toBeCloseTo(before[i].probs[scheme.labels[0]], 4);
      } finally {
        await running.close();
        judge.dispose();
      }
      policy.model.dispose();
      rm.model.dispose();
    }, 300_000);
  }
});
