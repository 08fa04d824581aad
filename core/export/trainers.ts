import { join } from 'node:path';
import { stringify } from 'yaml';
import { readDatasets, readRun } from '../runs/store.ts';
import { RUN_FILES, type PreferenceExample, type StageExample } from '../runs/schema.ts';
import { pipelineConfigOf } from '../stages/pipeline-config.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { buildDirAtomic } from './out-dir.ts';

/**
 * `lref export RUN --to trl|llamafactory`: a run's stage datasets (datasets/ of the run folder) in
 * the files those engines read, plus ready configs, so the recipe found on a 0.5M-parameter model
 * can be rerun on a 7B one on many GPUs. The base model is a placeholder to fill in.
 *
 * Text: prompts are the run's templates rendered (special tokens written out as text, e.g.
 * "<query>"; add them to the base tokenizer or keep them as plain text). Our <bos>/<eos> are dropped:
 * both engines add the base model's own. Hyperparameters are the usual ones for a 7B fine-tune,
 * not the tiny model's (a learning rate for training from scratch would wreck a pretrained model);
 * DPO's β, loss and RPO α are the run's.
 */

export const BASE_MODEL_PLACEHOLDER = 'REPLACE_WITH_BASE_MODEL';
export const CHAT_TEMPLATE_PLACEHOLDER = 'REPLACE_WITH_CHAT_TEMPLATE';

function clean(prompt: string): string {
  return prompt.replace(/^<bos>/, '');
}
function cleanCompletion(completion: string): string {
  return completion.replace(/<eos>$/, '');
}

interface StageData {
  runId: string;
  sft: readonly StageExample[];
  cot: readonly StageExample[];
  dpo: readonly PreferenceExample[];
  beta: number;
  rpoAlpha: number;
  seed: number;
}

function loadStageData(runDir: string): StageData {
  const run = readRun(runDir);
  const datasets = readDatasets(runDir);
  if (!datasets) {
    throw new UserError(`${runDir}: the run has no ${RUN_FILES.datasets}/ (it predates stage-dataset export); rerun the pipeline to export it`);
  }
  const cfg = pipelineConfigOf(run.run.config, join(runDir, RUN_FILES.run));
  return { runId: run.run.id, ...datasets, beta: cfg.dpo.train.beta, rpoAlpha: cfg.dpo.train.rpoAlpha, seed: run.run.seed };
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
// PyYAML (both engines read configs with it) takes "5e-7" for a string: floats need a dot, "5.0e-7".
const yamlFile = (comment: string, doc: Record<string, unknown>) =>
  comment.split('\n').map((l) => `# ${l}`).join('\n') + '\n' + stringify(doc).replace(/^(\w+: -?\d+)(e[-+]?\d+)$/gm, '$1.0$2');

// ------------------------------------------------------------------------------------------------
// TRL (huggingface.co/docs/trl/dataset_formats): standard prompt-completion {"prompt", "completion"}
// for SFTTrainer, standard preference with explicit prompt {"prompt", "chosen", "rejected"} for
// DPOTrainer. Configs are TrlParser YAML (ScriptArguments + SFTConfig/DPOConfig + ModelConfig;
// huggingface.co/docs/trl/script_utils): `trl sft --config sft.yaml`, `trl dpo --config dpo.yaml`.
// Each dataset is a folder with train.jsonl, so `dataset_name: ./sft` loads it with load_dataset.

export interface TrlPromptCompletion {
  prompt: string;
  completion: string;
}
export interface TrlPreferenceRow {
  prompt: string;
  chosen: string;
  rejected: string;
}

export function trlRows(d: Pick<StageData, 'sft' | 'cot' | 'dpo'>): { sft: TrlPromptCompletion[]; cot: TrlPromptCompletion[]; dpo: TrlPreferenceRow[] } {
  const pc = (e: StageExample) => ({ prompt: clean(e.prompt), completion: cleanCompletion(e.completion) });
  return {
    sft: d.sft.map(pc),
    cot: d.cot.map(pc),
    dpo: d.dpo.map((p) => ({ prompt: clean(p.prompt), chosen: cleanCompletion(p.chosen), rejected: cleanCompletion(p.rejected) })),
  };
}

export async function exportTrl(runDir: string, out: string): Promise<{ dir: string; counts: Record<string, number> }> {
  const d = loadStageData(runDir);
  const rows = trlRows(d);
  const common = { model_name_or_path: BASE_MODEL_PLACEHOLDER, dataset_train_split: 'train', seed: d.seed, bf16: true, report_to: 'none' };
  await buildDirAtomic(out, (dir) => {
    writeFileAtomic(join(dir, 'sft', 'train.jsonl'), jsonl(rows.sft));
    writeFileAtomic(join(dir, 'cot', 'train.jsonl'), jsonl(rows.cot));
    writeFileAtomic(join(dir, 'dpo', 'train.jsonl'), jsonl(rows.dpo));
    const sftArgs = (dataset: string, outDir: string) => ({
      ...common,
      dataset_name: dataset,
      output_dir: outDir,
      learning_rate: 2.0e-5,
      num_train_epochs: 2,
      per_device_train_batch_size: 8,
      gradient_accumulation_steps: 4,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.03,
      // the loss on the completion only (the grade, and the rationale for CoT), as the workbench trains
      completion_only_loss: true,
    });
    writeFileAtomic(join(dir, 'sft.yaml'), yamlFile(`LREF stage 1 (label SFT on the selected pairs) of run ${d.runId}.\ntrl sft --config sft.yaml`, sftArgs('./sft', './out/sft')));
    writeFileAtomic(
      join(dir, 'cot.yaml'),
      yamlFile(`LREF stage 2 (Multi-CoT: rationale + grade) of run ${d.runId}; start from stage 1's output.\ntrl sft --config cot.yaml --model_name_or_path ./out/sft`, sftArgs('./cot', './out/cot')),
    );
    writeFileAtomic(
      join(dir, 'dpo.yaml'),
      yamlFile(`LREF stage 3 (DPO against optimistic bias) of run ${d.runId}; start from stage 2's output.\ntrl dpo --config dpo.yaml --model_name_or_path ./out/cot`, {
        ...common,
        dataset_name: './dpo',
        output_dir: './out/dpo',
        learning_rate: 5.0e-7,
        num_train_epochs: 2,
        per_device_train_batch_size: 4,
        gradient_accumulation_steps: 4,
        beta: d.beta,
        loss_type: 'sigmoid',
        ...(d.rpoAlpha > 0 ? { rpo_alpha: d.rpoAlpha } : {}),
      }),
    );
    writeFileAtomic(join(dir, 'README.md'), readme('trl', d));
  });
  return { dir: out, counts: { sft: rows.sft.length, cot: rows.cot.length, dpo: rows.dpo.length } };
}

// ------------------------------------------------------------------------------------------------
// LLaMA-Factory (github.com/hiyouga/LLaMA-Factory, data/README.md): alpaca-format JSON files —
// SFT {"instruction", "input", "output"}, preference {"instruction", "input", "chosen", "rejected"}
// registered with "ranking": true — described in dataset_info.json beside them (dataset_dir: .);
// YAMLs in the shape of its examples/train_lora/*_sft.yaml and *_dpo.yaml
// (`llamafactory-cli train sft.yaml`).

export interface AlpacaRow {
  instruction: string;
  input: string;
  output: string;
}
export interface AlpacaPreferenceRow {
  instruction: string;
  input: string;
  chosen: string;
  rejected: string;
}

export const LF_DATASETS = { sft: 'lref_sft', cot: 'lref_cot', dpo: 'lref_dpo' } as const;

export function llamaFactoryRows(d: Pick<StageData, 'sft' | 'cot' | 'dpo'>): { sft: AlpacaRow[]; cot: AlpacaRow[]; dpo: AlpacaPreferenceRow[] } {
  const t = trlRows(d);
  return {
    sft: t.sft.map((r) => ({ instruction: r.prompt, input: '', output: r.completion })),
    cot: t.cot.map((r) => ({ instruction: r.prompt, input: '', output: r.completion })),
    dpo: t.dpo.map((r) => ({ instruction: r.prompt, input: '', chosen: r.chosen, rejected: r.rejected })),
  };
}

export function datasetInfo(): Record<string, unknown> {
  const sft = (file: string) => ({ file_name: file, formatting: 'alpaca', columns: { prompt: 'instruction', query: 'input', response: 'output' } });
  return {
    [LF_DATASETS.sft]: sft(`${LF_DATASETS.sft}.json`),
    [LF_DATASETS.cot]: sft(`${LF_DATASETS.cot}.json`),
    [LF_DATASETS.dpo]: {
      file_name: `${LF_DATASETS.dpo}.json`,
      formatting: 'alpaca',
      ranking: true,
      columns: { prompt: 'instruction', query: 'input', chosen: 'chosen', rejected: 'rejected' },
    },
  };
}

export async function exportLlamaFactory(runDir: string, out: string): Promise<{ dir: string; counts: Record<string, number> }> {
  const d = loadStageData(runDir);
  const rows = llamaFactoryRows(d);
  const common = (stage: 'sft' | 'dpo', dataset: string, outDir: string) => ({
    model_name_or_path: BASE_MODEL_PLACEHOLDER,
    trust_remote_code: true,
    stage,
    do_train: true,
    finetuning_type: 'lora',
    lora_rank: 8,
    lora_target: 'all',
    dataset,
    dataset_dir: '.',
    template: CHAT_TEMPLATE_PLACEHOLDER,
    cutoff_len: 1024,
    overwrite_cache: true,
    preprocessing_num_workers: 8,
    output_dir: outDir,
    logging_steps: 10,
    save_steps: 500,
    plot_loss: true,
    per_device_train_batch_size: stage === 'sft' ? 8 : 4,
    gradient_accumulation_steps: 4,
    learning_rate: stage === 'sft' ? 1.0e-4 : 5.0e-6,
    num_train_epochs: 2.0,
    lr_scheduler_type: 'cosine',
    warmup_ratio: 0.1,
    bf16: true,
    seed: d.seed,
    report_to: 'none',
  });
  await buildDirAtomic(out, (dir) => {
    writeFileAtomic(join(dir, `${LF_DATASETS.sft}.json`), JSON.stringify(rows.sft, null, 1) + '\n');
    writeFileAtomic(join(dir, `${LF_DATASETS.cot}.json`), JSON.stringify(rows.cot, null, 1) + '\n');
    writeFileAtomic(join(dir, `${LF_DATASETS.dpo}.json`), JSON.stringify(rows.dpo, null, 1) + '\n');
    writeFileAtomic(join(dir, 'dataset_info.json'), JSON.stringify(datasetInfo(), null, 2) + '\n');
    writeFileAtomic(
      join(dir, 'sft.yaml'),
      yamlFile(`LREF stages 1–2 of run ${d.runId}: label SFT on the selected pairs, then Multi-CoT.\nllamafactory-cli train sft.yaml`, common('sft', `${LF_DATASETS.sft},${LF_DATASETS.cot}`, 'saves/lref/sft')),
    );
    writeFileAtomic(
      join(dir, 'dpo.yaml'),
      yamlFile(`LREF stage 3 of run ${d.runId}: DPO against optimistic bias, from the SFT adapter.\nllamafactory-cli train dpo.yaml`, {
        ...common('dpo', LF_DATASETS.dpo, 'saves/lref/dpo'),
        adapter_name_or_path: 'saves/lref/sft',
        pref_beta: d.beta,
        pref_loss: 'sigmoid',
        ...(d.rpoAlpha > 0 ? { pref_ftx: d.rpoAlpha } : {}),
      }),
    );
    writeFileAtomic(join(dir, 'README.md'), readme('llamafactory', d));
  });
  return { dir: out, counts: { sft: rows.sft.length, cot: rows.cot.length, dpo: rows.dpo.length } };
}

function readme(engine: 'trl' | 'llamafactory', d: StageData): string {
  const steps =
    engine === 'trl'
      ? ['trl sft --config sft.yaml', 'trl sft --config cot.yaml --model_name_or_path ./out/sft', 'trl dpo --config dpo.yaml --model_name_or_path ./out/cot']
      : ['llamafactory-cli train sft.yaml', 'llamafactory-cli train dpo.yaml'];
  return [
    `# LREF run ${d.runId} for ${engine === 'trl' ? 'TRL' : 'LLaMA-Factory'}`,
    '',
    `Stage datasets: ${d.sft.length} label-SFT examples (stage 1's selection), ${d.cot.length} Multi-CoT examples (rationale + grade), ${d.dpo.length} DPO preferences.`,
    '',
    `Replace \`${BASE_MODEL_PLACEHOLDER}\`${engine === 'llamafactory' ? ` and \`${CHAT_TEMPLATE_PLACEHOLDER}\`` : ''} in the YAML files, then:`,
    '',
    '```sh',
    ...steps,
    '```',
    '',
    'Prompts carry the workbench template\'s markers as text (`<query>`, `<product>`, `<answer>`, `<L:Exact>`, …):',
    'add them to the tokenizer as special tokens, or train on them as plain text.',
    '',
  ].join('\n');
}
