import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';
import { importHF } from '../../model/hf/load.ts';
import { bufferIO } from '../../../test/helpers/io.ts';
import { loadDataset } from '../../data/load.ts';
import { splitByQuery } from '../../data/split.ts';
import { getScheme } from '../../data/labels.ts';
import { computeMetrics } from '../../eval/metrics.ts';
import { loadHFAdapter, predictHF } from '../../stages/hf-relevance.ts';

// `lref train --model` as a user runs it, on a tiny random GPT-2 written by the PyTorch reference script.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, '..', '..', 'model', 'hf', 'testdata', 'hf_ref.py');
const haveTorch = spawnSync(PY, ['-c', 'import torch, regex'], { encoding: 'utf8' }).status === 0;

const root = mkdtempSync(join(tmpdir(), 'lref-hf-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!haveTorch)('lref train --model', () => {
  it('decides grades by the rule fitted on valid and saves it with the adapters; argmax on request; a bad mode is refused', async () => {
    const src = join(root, 'gpt2');
    execFileSync(PY, [REF, 'make', src, '--arch', 'gpt2', '--positions', '384', '--std', '0.05']);
    const base = join(root, 'base');
    importHF(src, base);
    const data = join(root, 'pairs.jsonl');
    expect(await main(['data', 'synth', '--out', data, '--pairs', '300', '--seed', '4'], bufferIO())).toBe(0);
    const common = ['train', '--model', base, '--data', data, '--steps', '3', '--batch-size', '4', '--context', '320', '--seed', '1', '--json'];

    const fitted = join(root, 'fitted');
    const io = bufferIO();
    expect(await main([...common, '--out', fitted], io)).toBe(0);
    const metrics = JSON.parse(readFileSync(join(fitted, 'metrics.json'), 'utf8'));
    expect(metrics.decision.fitted_on).toBe('valid');
    expect(metrics.decision.offsets).toHaveLength(5);
    expect(metrics.decision.n).toBe(metrics.split.valid);
    expect(metrics.valid_variants.map((r: { name: string }) => r.name)).toEqual(['zero_shot', 'sft_lora']);
    // the adapters carry the rule the reported test figures used, so eval/export/serve grade alike
    const adapter = JSON.parse(readFileSync(join(fitted, 'adapter_config.json'), 'utf8'));
    expect(adapter.lref.decision).toEqual(metrics.decision);
    const reloaded = loadHFAdapter(fitted);
    const test = splitByQuery((await loadDataset(data, {})).pairs, { train: 0.8, valid: 0.1, test: 0.1, seed: 1 }).test;
    const again = computeMetrics('sft_lora', test.map((p) => p.label), predictHF(reloaded, test).map((p) => p.label), getScheme('lref5'));
    expect(again.macro_f1).toBeCloseTo(metrics.variants[1].macro_f1, 6);
    reloaded.model.dispose();

    const plain = join(root, 'argmax');
    expect(await main([...common, '--decision', 'argmax', '--out', plain], bufferIO())).toBe(0);
    expect(JSON.parse(readFileSync(join(plain, 'metrics.json'), 'utf8')).decision).toBeNull();
    expect(JSON.parse(readFileSync(join(plain, 'adapter_config.json'), 'utf8')).lref.decision).toBeUndefined();

    const bad = bufferIO();
    expect(await main([...common, '--decision', 'median', '--out', join(root, 'bad')], bad)).not.toBe(0);
    expect(bad.stderr.join('\n')).toMatch(/--decision: expected valid-macro-f1 or argmax, got "median"/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  }, 240_000);
});
