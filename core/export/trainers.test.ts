import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { readDatasets } from '../runs/store.ts';
import { writeTinyRun } from '../../test/helpers/tiny-run.ts';
import { bufferIO } from '../../test/helpers/io.ts';
import { BASE_MODEL_PLACEHOLDER, CHAT_TEMPLATE_PLACEHOLDER } from './trainers.ts';

/**
 * The TRL and LLaMA-Factory exports against the formats those engines document:
 *   TRL (huggingface.co/docs/trl/dataset_formats): prompt-completion {"prompt", "completion"} and
 *   preference {"prompt", "chosen", "rejected"}, all strings; TrlParser YAML whose keys are
 *   ScriptArguments / SFTConfig / DPOConfig / ModelConfig fields.
 *   LLaMA-Factory (data/README.md): alpaca rows {"instruction", "input", "output"}, preference rows
 *   {"instruction", "input", "chosen", "rejected"} registered with "ranking": true; dataset_info.json
 *   columns naming those fields; train YAMLs with stage sft / dpo.
 */

const root = mkdtempSync(join(tmpdir(), 'lref-export-trainers-'));
const run = join(root, 'run');
beforeAll(async () => {
  await writeTinyRun(run, { steps: 2 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const jsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const strings = (row: Record<string, unknown>, keys: string[]) => {
  expect(Object.keys(row).sort()).toEqual([...keys].sort());
  for (const k of keys) {
    expect(typeof row[k]).toBe('string');
    expect((row[k] as string).length).toBeGreaterThan(0);
  }
};

describe('lref export --to trl', () => {
  it('writes prompt-completion and preference JSONL and TrlParser configs', async () => {
    const out = join(root, 'trl');
    const io = bufferIO();
    expect(await main(['export', run, '--to', 'trl', '--out', out, '--json'], io)).toBe(0);
    const d = readDatasets(run)!;
    expect(JSON.parse(io.stdout[0]).counts).toEqual({ sft: d.sft.length, cot: 12, dpo: 3 });

    const sft = jsonl(join(out, 'sft', 'train.jsonl'));
    expect(sft).toHaveLength(d.sft.length);
    for (const r of sft) strings(r, ['prompt', 'completion']);
    expect(sft[0].prompt).toMatch(/^<query> /); // our <bos> dropped: the engine adds the base model's
    expect(sft[0].completion).toBe(`<L:${d.sft[0].label}>`); // and our <eos>
    const cot = jsonl(join(out, 'cot', 'train.jsonl'));
    for (const r of cot) strings(r, ['prompt', 'completion']);
    expect(cot[0].completion).toMatch(/^<rationale> same type; so \w+\.<answer><L:\w+>$/);
    expect(cot.some((r) => /^<wrong><L:\w+><query>/.test(r.prompt as string))).toBe(true); // DR shows the wrong decision
    const dpo = jsonl(join(out, 'dpo', 'train.jsonl'));
    for (const r of dpo) strings(r, ['prompt', 'chosen', 'rejected']);
    expect(dpo[0].rejected).toMatch(/<L:Exact>$/);

    const sftYaml = parse(readFileSync(join(out, 'sft.yaml'), 'utf8'));
    expect(sftYaml).toMatchObject({ model_name_or_path: BASE_MODEL_PLACEHOLDER, dataset_name: './sft', dataset_train_split: 'train', completion_only_loss: true });
    expect(existsSync(join(out, sftYaml.dataset_name, 'train.jsonl'))).toBe(true);
    const dpoText = readFileSync(join(out, 'dpo.yaml'), 'utf8');
    expect(parse(dpoText)).toMatchObject({ dataset_name: './dpo', beta: 0.1, loss_type: 'sigmoid', learning_rate: 5e-7 });
    // PyYAML reads "5e-7" as a string; the file says 5.0e-7
    expect(dpoText).toMatch(/^learning_rate: 5\.0e-7$/m);
    expect(parse(readFileSync(join(out, 'cot.yaml'), 'utf8')).dataset_name).toBe('./cot');
  });
});

describe('lref export --to llamafactory', () => {
  it('writes alpaca SFT and ranking files, dataset_info.json and sft/dpo YAMLs that name them', async () => {
    const out = join(root, 'lf');
    expect(await main(['export', run, '--to', 'llamafactory', '--out', out], bufferIO())).toBe(0);
    const info = JSON.parse(readFileSync(join(out, 'dataset_info.json'), 'utf8')) as Record<string, { file_name: string; formatting: string; ranking?: boolean; columns: Record<string, string> }>;
    expect(Object.keys(info).sort()).toEqual(['lref_cot', 'lref_dpo', 'lref_sft']);
    for (const [name, entry] of Object.entries(info)) {
      expect(entry.formatting).toBe('alpaca');
      const rows = JSON.parse(readFileSync(join(out, entry.file_name), 'utf8')) as Record<string, unknown>[];
      expect(Array.isArray(rows)).toBe(true);
      expect(rows.length).toBeGreaterThan(0);
      const fields = name === 'lref_dpo' ? ['instruction', 'input', 'chosen', 'rejected'] : ['instruction', 'input', 'output'];
      expect(entry.ranking ?? false).toBe(name === 'lref_dpo');
      // every column dataset_info names is a field of every row
      expect(Object.values(entry.columns).sort()).toEqual([...fields].sort());
      for (const r of rows) {
        expect(Object.keys(r).sort()).toEqual([...fields].sort());
        expect(typeof r.instruction).toBe('string');
        expect(r.input).toBe('');
      }
    }
    const sft = parse(readFileSync(join(out, 'sft.yaml'), 'utf8'));
    expect(sft).toMatchObject({ stage: 'sft', do_train: true, model_name_or_path: BASE_MODEL_PLACEHOLDER, template: CHAT_TEMPLATE_PLACEHOLDER, dataset_dir: '.' });
    for (const d of (sft.dataset as string).split(',')) expect(info[d]).toBeDefined();
    const dpo = parse(readFileSync(join(out, 'dpo.yaml'), 'utf8'));
    expect(dpo).toMatchObject({ stage: 'dpo', dataset: 'lref_dpo', pref_beta: 0.1, pref_loss: 'sigmoid' });
  });

  it('a run without datasets/ is refused with a reason, and --out is left absent', async () => {
    const bare = join(root, 'bare');
    await writeTinyRun(bare, { steps: 1 });
    rmSync(join(bare, 'datasets'), { recursive: true });
    const io = bufferIO();
    expect(await main(['export', bare, '--to', 'llamafactory', '--out', join(root, 'lf2')], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/has no datasets\/ \(it predates stage-dataset export\)/);
    expect(existsSync(join(root, 'lf2'))).toBe(false);
  });
});
