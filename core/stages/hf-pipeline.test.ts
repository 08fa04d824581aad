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
import { exportTrl } from '../export/trainers.ts';
import { readDatasets, readRun } from '../runs/store.ts';
import { RUN_FILES } from '../runs/schema.ts';
import { loadHFAdapter, loadHFJudge, predictHF } from './hf-relevance.ts';
import { hfCotEncoding, readHFCot } from './hf-cot.ts';
import { loadTemplate } from '../text/prompts.ts';
import { getScheme } from '../data/labels.ts';
import { loadPipelineConfig, pipelineConfigOf } from './pipeline-config.ts';
import { runPipeline } from './pipeline.ts';
import { pipelineInputs } from '../cli/commands/pipeline.ts';

// `lref pipeline --model`: the smoke preset's generator, split and stage layout on a tiny random Llama
// (GQA 4/2) written by the PyTorch reference script; half the pairs and steps cut so it finishes in about a minute.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, '..', 'model', 'hf', 'testdata', 'hf_ref.py');
const CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
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
  it('writes a complete run folder: every variant as LoRA adapters, selection, Multi-CoT generated and scored, beam-mined DPO; no tensor leak', { timeout: 900_000 }, async () => {
    const src = join(root, 'src');
    execFileSync(PY, [REF, 'make', src, '--arch', 'llama', '--kv-heads', '2', '--positions', '384', '--std', '0.05']);
    const modelDir = join(root, 'model');
    importHF(src, modelDir);
    const cfg = loadPipelineConfig({
      preset: 'smoke',
      overrides: {
        hf: { dir: modelDir, lora: { rank: 4, alpha: 8, dropout: 0 } },
        data: { pairs: 300 },
        train: { steps: 16 },
        selection: { auxSteps: 6 },
        cot: { steps: 4, control: true },
        dpo: { minePairs: 16, mine: { maxNewTokens: 24 } },
        eval: { maxNewTokens: 24 },
      },
    });
    const out = join(root, 'run');
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r = await runPipeline(cfg, { outDir: out, backend, log: (l) => lines.push(l), now: new Date('2026-12-02T11:00:00Z') });
    expect(tf.memory().numTensors).toBe(before);

    const generated = ['+ee', '+ra', '+dr', '+dpo'];
    const names = ['lexical', 'zero_shot', 'sft_all', 'sft_random', 'sft_selected', '+ee', '+ee:scored', '+ra', '+ra:scored', '+dr', '+dr:scored', '+label', '+dpo', '+dpo:scored'];
    expect(r.metrics.map((m) => m.name)).toEqual(names);
    expect(r.validMetrics.map((m) => m.name)).toEqual(names);
    for (const m of [...r.metrics, ...r.validMetrics]) {
      expect(Number.isFinite(m.macro_f1) && m.n > 0).toBe(true);
      // generated variants count the outputs with no readable grade; scored ones always name one
      if (generated.includes(m.name)) expect(m.unparseable).toBeGreaterThanOrEqual(0);
      else expect(m.unparseable ?? 0).toBe(0);
    }
    expect(lines.some((l) => l.startsWith('cross_encoder: skipped'))).toBe(true);
    for (const v of ['zero_shot', 'sft_all', '+label', '+dpo:scored']) expect(lines.some((l) => l.startsWith(`${v}: decision rule on valid — offsets `))).toBe(true);
    expect(lines.some((l) => /^cot\/ee: \d+ rationales from rules/.test(l))).toBe(true);
    expect(r.training.sft_all.steps).toBe(16);
    for (const v of ['+ee', '+ra', '+dr', '+label']) expect(r.training[v].steps).toBe(4);
    expect(r.training['+dpo'].steps).toBeGreaterThan(0);
    // a fresh policy's first DPO loss is ln 2 (policy = reference)
    expect(r.training['+dpo'].losses[0]).toBeCloseTo(Math.log(2), 4);
    expect(lines.some((l) => /^dpo\/mine: 16 pairs, .* mined [1-9]/.test(l))).toBe(true);
    expect(lines.some((l) => /^\+dpo: from \+dr on \d+ beam-mined preference pairs/.test(l))).toBe(true);

    // readRun validates every file against its schema
    const run = readRun(out);
    expect(run.run.variants).toEqual(names);
    expect(pipelineConfigOf(run.run.config, out).hf?.dir).toBe(modelDir);
    expect(run.selection).toHaveLength(run.run.data.split.train);
    expect(run.selection.some((s) => s.kept)).toBe(true);
    for (const v of names) expect(run.predictions.filter((p) => p.variant === v)).toHaveLength(run.pairs.length);
    // +ee is asked with the EE prompt, the later ones with RA (a DR prompt needs a wrong decision)
    const askedWith: Record<string, string> = { '+ee': 'ee', '+ra': 'ra', '+dr': 'ra', '+dpo': 'ra' };
    for (const p of run.predictions.filter((x) => generated.includes(x.variant))) {
      expect(p.cot_kind).toBe(askedWith[p.variant]);
      expect(typeof p.rationale).toBe('string');
      if (p.label === null) expect(typeof p.raw).toBe('string');
    }

    // datasets/ as text, prompts as the model saw them (for lref export --to trl)
    const ds = readDatasets(out)!;
    expect(ds.sft).toHaveLength(run.selection.filter((x) => x.kept).length);
    expect(new Set(ds.cot.map((e) => e.kind))).toEqual(new Set(['ee', 'ra', 'dr']));
    for (const e of ds.cot) expect(e.prompt.endsWith('Reasoning:') && e.completion.endsWith(`\nAnswer: ${e.label}`)).toBe(true);
    expect(ds.dpo.length).toBeGreaterThan(0);
    expect(ds.dpo.every((e) => !e.chosen.includes('<|endoftext|>') && !e.rejected.includes('<|endoftext|>'))).toBe(true);
    const trl = await exportTrl(out, join(root, 'trl'));
    expect(trl.counts).toMatchObject({ sft: ds.sft.length, cot: ds.cot.length, dpo: ds.dpo.length });

    // a label and a CoT checkpoint reload (base + PEFT adapters) to the probabilities the run recorded
    for (const [variant, recordedAs] of [['sft_selected', 'sft_selected'], ['+dr', '+dr:scored']]) {
      const rm = loadHFAdapter(join(out, RUN_FILES.checkpoints, variant));
      try {
        const again = predictHF(rm, run.pairs);
        const recorded = run.predictions.filter((p) => p.variant === recordedAs);
        let worst = 0;
        again.forEach((p, i) => {
          for (const [l, v] of Object.entries(p.probs)) worst = Math.max(worst, Math.abs(v - recorded[i].probs![l]));
        });
        expect(worst).toBeLessThan(1e-4);
        // the label checkpoint carries the rule fitted on valid, so it grades as the run reported; a CoT checkpoint generates
        if (variant === 'sft_selected') {
          expect(rm.decision?.fitted_on).toBe('valid');
          expect(again.map((p) => p.label)).toEqual(recorded.map((p) => p.label));
        } else expect(rm.decision).toBeUndefined();
      } finally {
        rm.model.dispose();
      }
    }
    for (const v of ['+ee', '+ra', '+label', '+dpo']) expect(existsSync(join(out, RUN_FILES.checkpoints, v, 'adapter_model.safetensors'))).toBe(true);

    // the app's decision matrix reads it; a bundle export names what to do instead
    const table = loadDecisions([{ dir: out, name: 'hf' }]);
    expect(table.columns.map((c) => c.variant)).toEqual(expect.arrayContaining(['zero_shot', 'sft_selected', '+dpo']));
    await expect(exportBundle(out, { variant: 'sft_selected', out: join(root, 'bundle') })).rejects.toThrow(/LoRA adapters on an imported Hugging Face model.*lref model export/);
    expect(existsSync(join(root, 'bundle'))).toBe(false);

    // a finished run is never overwritten
    await expect(runPipeline(cfg, { outDir: out, backend })).rejects.toThrow(/already holds a finished run/);
  });
});

describe.skipIf(!haveTorch)('Multi-CoT examples on an imported model', () => {
  it('each kind\'s completion decodes back to its rationale and gold grade; the prompt goes through the chat template', () => {
    const src = join(root, 'cot-src');
    execFileSync(PY, [REF, 'make', src, '--arch', 'llama', '--kv-heads', '2', '--positions', '512', '--chat-template', CHATML]);
    const scheme = getScheme('lref5');
    let rm = loadHFJudge(src, scheme, { contextLength: 512 });
    try {
      const pair = { pair_id: 'p1', query_id: 'q1', product_id: 'd1', query: 'cordless drill 18v', title: 'DeWalt 18V Cordless Drill, 1/2 in. chuck – 2 batteries (½ kg)', label: 'Significant' };
      const enc = hfCotEncoding(rm);
      for (const [kind, answerFirst] of [['ee', false], ['ra', false], ['dr', false], ['ee', true]] as const) {
        const template = { ...loadTemplate(kind), answerFirst };
        const stats = { promptCut: 0, rationaleCut: 0 };
        const rationale = 'The brand and the 18V rating match; the chuck size is not asked for.';
        const [ex] = enc.cotExamples(kind, [pair], [{ pair_id: 'p1', kind, rationale, ...(kind === 'dr' ? { wrong: 'Exact' } : {}) }], template, { stats });
        const prompt = rm.tokenizer.decode(ex.prompt);
        expect(prompt.startsWith('<|im_start|>user\n')).toBe(true);
        expect(prompt.endsWith(answerFirst ? '<|im_start|>assistant\nAnswer:' : '<|im_start|>assistant\nReasoning:')).toBe(true);
        if (kind === 'dr') expect(prompt).toContain('graded it Exact, which is wrong');
        if (kind === 'ra') expect(prompt).toContain(loadTemplate('ra').defaults!.rules);
        expect(ex.completion[ex.completion.length - 1]).toBe(rm.tokenizer.specialId('eos_token'));
        const read = readHFCot(rm.tokenizer.decode(ex.completion.slice(0, -1)), template, scheme.labels);
        expect(read).toMatchObject({ label: 'Significant', rationale, unparseable: false });
        expect(stats).toEqual({ promptCut: 0, rationaleCut: 0 });
      }
      // a context too small for the whole example: the title gives way first, then the rationale; the grade never
      const [fits] = enc.cotExamples('ee', [pair], [{ pair_id: 'p1', kind: 'ee', rationale: 'brand matches' }], loadTemplate('ee'), {});
      const C = fits.prompt.length + fits.completion.length + 16;
      rm.model.dispose();
      rm = loadHFJudge(src, scheme, { contextLength: C });
      const long = { ...pair, title: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') };
      const stats = { promptCut: 0, rationaleCut: 0 };
      const why = Array.from({ length: 60 }, (_, i) => `because${i}`).join(' ');
      const [ex] = hfCotEncoding(rm).cotExamples('ee', [long], [{ pair_id: 'p1', kind: 'ee', rationale: why }], loadTemplate('ee'), { stats });
      expect(ex.prompt.length + ex.completion.length).toBeLessThanOrEqual(C);
      expect(stats).toEqual({ promptCut: 1, rationaleCut: 1 });
      expect(readHFCot(rm.tokenizer.decode(ex.completion.slice(0, -1)), loadTemplate('ee'), scheme.labels).label).toBe('Significant');
    } finally {
      rm.model.dispose();
    }
  });

  it('reads the grade after the first "Answer:" only; anything else is unparseable', () => {
    const labels = getScheme('lref5').labels;
    const ee = loadTemplate('ee');
    expect(readHFCot(' brand matches.\nAnswer: exact.', ee, labels)).toMatchObject({ label: 'Exact', rationale: 'brand matches.', unparseable: false });
    expect(readHFCot(' no grade here', ee, labels)).toMatchObject({ label: null, unparseable: true, raw: 'Reasoning: no grade here' });
    expect(readHFCot(' x\nAnswer: Good\nAnswer: Exact', ee, labels).label).toBeNull();
    expect(readHFCot(' Trivial\nReasoning: an accessory', { ...ee, answerFirst: true }, labels)).toMatchObject({ label: 'Trivial', rationale: 'an accessory' });
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
