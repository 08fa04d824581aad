import { existsSync, readFileSync, renameSync, rmSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import { getScheme, type LabelScheme } from '../data/labels.ts';
import { TrainConfig, type TrainConfigInput } from '../model/config.ts';
import { LoraConfig, type HFCausalLM, type LoraConfigInput } from '../model/hf/base.ts';
import { loadHFModel, openHF, SIDE_FILES, type ImportRecord } from '../model/hf/load.ts';
import { SafetensorsFile, readTensor, writeSafetensors } from '../model/hf/safetensors.ts';
import { HFTokenizer } from '../model/hf/tokenizer.ts';
import type { LMExample } from '../train/batch.ts';
import { trainLM } from '../train/loop.ts';
import { scoreLabels } from '../train/score.ts';
import { lrAt } from '../train/schedule.ts';
import { makeOptimizer } from '../train/loop.ts';
import { dpoStep, sequenceLogpsOf, type PreferencePair } from './dpo.ts';
import type { LabelPrediction } from './relevance-model.ts';
import { UserError } from '../util/errors.ts';
import { checkDecision, decideGrade, GradeDecision } from '../eval/decision.ts';

/**
 * A relevance judge on an imported pretrained model: the model's own tokenizer, its chat template
 * where it has one, and grades read as the model's own first token of each grade name (" Exact",
 * " Partial", …), so no new token or embedding row is added. Fine-tuning trains LoRA adapters
 * only; the base stays frozen and is shared by the DPO reference.
 */
export interface HFRelevanceModel {
  model: HFCausalLM;
  tokenizer: HFTokenizer;
  scheme: LabelScheme;
  /** The folder the base weights came from. */
  baseDir: string;
  /** how probabilities become a grade; argmax when absent (eval/decision.ts) */
  decision?: GradeDecision;
}

/**
 * The instruction every prompt carries (why: a pretrained model needs to be told the grade names).
 * `task`: what to write before the grade (a CoT prompt, hf-cot.ts); without it, the grade alone.
 */
export function instruction(scheme: LabelScheme, p: Pick<PairRecord, 'query' | 'title'>, task?: string): string {
  const ask = task ? `${task}, then answer with one word` : 'Answer with one word';
  return `Rate how relevant the product is to the search query. ${ask}: ${scheme.labels.join(', ')}.\nQuery: ${p.query}\nProduct: ${p.title}`;
}

/**
 * The prompt text: through the chat template when the model has one, else the instruction + "\nAnswer:".
 * A CoT prompt (`cot`) ends with its lead ("Reasoning:"), after the chat template's assistant turn or a newline.
 */
export function promptText(tok: HFTokenizer, scheme: LabelScheme, p: Pick<PairRecord, 'query' | 'title'>, cot?: { task: string; lead: string }): string {
  const text = instruction(scheme, p, cot?.task);
  const chat = tok.applyChatTemplate([{ role: 'user', content: text }]);
  return cot ? (chat ?? `${text}\n`) + cot.lead : (chat ?? `${text}\nAnswer:`);
}

/**
 * Each grade's token: the first token of the grade name as it follows the prompt (" Exact" after
 * "Answer:", "Exact" at the start of a chat turn), found as the first token where prompt + grade
 * parts from the prompt alone. (Encoding " Exact" on its own would not do: a Llama-2 tokenizer puts
 * a "▁" before every text, so it reads "▁▁Exact" and starts with a lone "▁".) Two grades with the same
 * first token could not be told apart: an error naming them.
 */
export function gradeTokenIds(tok: HFTokenizer, scheme: LabelScheme): number[] {
  const probe = promptText(tok, scheme, { query: 'q', title: 't' });
  const before = tok.encode(probe);
  const ids = scheme.labels.map((l) => {
    const e = tok.encode(probe + (tok.chatTemplate ? '' : ' ') + l);
    let n = 0;
    while (n < before.length && before[n] === e[n]) n++;
    if (n >= e.length) throw new UserError(`grade ${l}: encodes to no token`);
    return e[n];
  });
  const seen = new Map<number, string>();
  scheme.labels.forEach((l, i) => {
    const other = seen.get(ids[i]);
    if (other) throw new UserError(`${tok.file}: grades ${other} and ${l} start with the same token (${ids[i]}); use a scheme whose grade names differ in their first token`);
    seen.set(ids[i], l);
  });
  return ids;
}

export function eosId(rm: HFRelevanceModel): number | undefined {
  return rm.tokenizer.specialId('eos_token') ?? rm.model.spec.eosIds[0];
}

export function padId(rm: HFRelevanceModel): number {
  return rm.tokenizer.specialId('pad_token') ?? eosId(rm) ?? 0;
}

/** Prompt ids, the title cut (by words) until prompt + grade + eos fit the context. */
export function encodeHFPrompt(rm: HFRelevanceModel, p: Pick<PairRecord, 'query' | 'title'>): number[] {
  const room = rm.model.config.contextLength - 2;
  let title = p.title;
  for (;;) {
    const ids = rm.tokenizer.encode(promptText(rm.tokenizer, rm.scheme, { query: p.query, title }));
    if (ids.length <= room) return ids;
    const words = title.split(' ');
    if (words.length <= 1) throw new UserError(`the prompt for query "${p.query.slice(0, 40)}" does not fit the context (${rm.model.config.contextLength} tokens) even without a title`);
    title = words.slice(0, Math.max(1, Math.floor(words.length * 0.8))).join(' ');
  }
}

/** SFT examples: prompt → grade token (+ eos). */
export function hfLabelExamples(rm: HFRelevanceModel, pairs: readonly PairRecord[], labels?: readonly string[]): LMExample[] {
  const grades = gradeTokenIds(rm.tokenizer, rm.scheme);
  const eos = eosId(rm);
  return pairs.map((p, i) => {
    const g = rm.scheme.labels.indexOf(labels?.[i] ?? p.label);
    if (g < 0) throw new UserError(`pair ${p.pair_id}: label ${labels?.[i] ?? p.label} is not in scheme ${rm.scheme.id}`);
    return { prompt: encodeHFPrompt(rm, p), completion: eos === undefined ? [grades[g]] : [grades[g], eos] };
  });
}

/** Scores every pair: P(grade token) at the answer position, softmax over the grade tokens. */
export function predictHF(rm: HFRelevanceModel, pairs: readonly PairRecord[], batchSize = 16): LabelPrediction[] {
  if (pairs.length === 0) return [];
  const probs = scoreLabels(rm.model, pairs.map((p) => encodeHFPrompt(rm, p)), gradeTokenIds(rm.tokenizer, rm.scheme), batchSize, { padId: padId(rm) });
  return probs.map((row) => {
    const named: Record<string, number> = {};
    rm.scheme.labels.forEach((l, i) => (named[l] = row[i]));
    return { label: rm.scheme.labels[decideGrade(row, rm.decision?.offsets)], probs: named };
  });
}

/** Loads a base model folder (HF or imported) as a judge, with LoRA adapters attached when `lora` is given. */
export function loadHFJudge(baseDir: string, scheme: LabelScheme, opts: { contextLength?: number; lora?: LoraConfigInput } = {}): HFRelevanceModel {
  const model = loadHFModel(baseDir, { contextLength: opts.contextLength ?? 256 });
  if (opts.lora) model.attachLora(opts.lora);
  return { model, tokenizer: HFTokenizer.fromDir(baseDir), scheme, baseDir: resolve(baseDir) };
}

/** LoRA SFT on label-only examples; the base stays frozen (params() are the adapters). */
export function trainHFLabels(rm: HFRelevanceModel, pairs: readonly PairRecord[], cfg: TrainConfigInput): { losses: number[] } {
  if (!rm.model.loraConfig()) throw new Error('trainHFLabels: attach LoRA adapters first');
  const tc = TrainConfig.parse({ lr: 2e-4, warmup: 0, weightDecay: 0, ...cfg });
  const r = trainLM(rm.model, hfLabelExamples(rm, pairs), tc, { batch: { padTo: 'longest', padId: padId(rm) } });
  r.optimizer.dispose();
  return { losses: r.losses };
}

/**
 * DPO on the adapters: for each pair the gold grade is chosen and the policy's most probable wrong
 * grade rejected (the error it would make); the reference is the starting policy, read once.
 */
export function dpoHF(rm: HFRelevanceModel, pairs: readonly PairRecord[], opts: { steps: number; beta?: number; lr?: number; batchSize?: number }): { model: HFRelevanceModel; losses: number[]; margins: number[] } {
  const grades = gradeTokenIds(rm.tokenizer, rm.scheme);
  const eos = eosId(rm);
  const tail = eos === undefined ? [] : [eos];
  const preds = predictHF(rm, pairs);
  const prefs: PreferencePair[] = pairs.map((p, i) => {
    const gold = rm.scheme.labels.indexOf(p.label);
    let worst = -1;
    rm.scheme.labels.forEach((l, j) => {
      if (j !== gold && (worst < 0 || preds[i].probs[l] > preds[i].probs[rm.scheme.labels[worst]])) worst = j;
    });
    return {
      pair_id: p.pair_id, prompt: encodeHFPrompt(rm, p), chosen: [grades[gold], ...tail], rejected: [grades[worst], ...tail],
      chosen_rank: null, rejected_label: rm.scheme.labels[worst], gold: p.label, optimistic: false,
    };
  });
  const pad = padId(rm);
  const B = Math.min(opts.batchSize ?? 8, prefs.length);
  const ref = sequenceLogpsOf(rm.model, prefs, pad, B);
  const model = rm.model.clone();
  const tc = TrainConfig.parse({ lr: opts.lr ?? 1e-4, warmup: 0, weightDecay: 0, steps: opts.steps, batchSize: B });
  const optimizer = makeOptimizer(model, tc);
  const losses: number[] = [];
  const margins: number[] = [];
  try {
    for (let step = 0; step < opts.steps; step++) {
      const idx = Array.from({ length: B }, (_, k) => (step * B + k) % prefs.length);
      const r = dpoStep(model, optimizer, idx.map((i) => prefs[i]), { chosen: Float32Array.from(idx, (i) => ref.chosen[i]), rejected: Float32Array.from(idx, (i) => ref.rejected[i]) }, {
        beta: opts.beta ?? 0.1, lr: lrAt(step, { lr: tc.lr, warmup: 0, steps: opts.steps, minLrRatio: tc.minLrRatio }), clipNorm: tc.clipNorm, padId: pad,
      });
      losses.push(r.loss);
      margins.push(r.metrics['rewards/margins']);
    }
  } finally {
    optimizer.dispose();
  }
  return { model: { ...rm, model }, losses, margins };
}

// ------------------------------------------------------------------------------------------------
// On disk. An adapter folder (PEFT's layout, so it moves to PEFT unchanged):
//   adapter_config.json       PEFT fields + lref: {version, base (absolute path), scheme, contextLength}
//   adapter_model.safetensors base_model.model.<module>.lora_A.weight [r,in], .lora_B.weight [out,r]
// A merged export is an imported-model folder (config.json, model.safetensors, tokenizer files,
// lref-hf.json) plus lref-judge.json, which `lref serve --model` reads.

const AdapterConfig = z.object({
  peft_type: z.literal('LORA'),
  r: z.number().int().min(1),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0),
  target_modules: z.array(z.string()),
  base_model_name_or_path: z.string(),
  lref: z.object({ version: z.literal(1), scheme: z.string(), contextLength: z.number().int().min(2), decision: GradeDecision.optional() }),
});

export const JudgeCard = z.object({
  version: z.literal(1),
  kind: z.literal('lref-hf-judge'),
  scheme: z.string(),
  contextLength: z.number().int().min(2),
  base: z.string(),
  lora: LoraConfig.optional(),
  decision: GradeDecision.optional(),
  created: z.string(),
});
export type JudgeCard = z.infer<typeof JudgeCard>;

const peftName = (n: string) => `base_model.model.${n.replace(/\.lora_([AB])$/, '.lora_$1.weight')}`;

export function saveHFAdapter(dir: string, rm: HFRelevanceModel): void {
  const cfg = rm.model.loraConfig();
  if (!cfg) throw new Error('saveHFAdapter: the model has no adapters');
  const params = rm.model.params();
  const entries = [...params].map(([name, v]) => ({ name: peftName(name), shape: [...v.shape].reverse(), src: name }));
  const bySaved = new Map(entries.map((e) => [e.name, e.src]));
  mkdirSync(dir, { recursive: true });
  // PEFT stores A as [r,in] and B as [out,r]: ours ([in,r], [r,out]) transposed.
  writeSafetensors(join(dir, 'adapter_model.safetensors'), entries, (name) =>
    tf.tidy(() => tf.transpose(params.get(bySaved.get(name)!)!).dataSync() as Float32Array),
  );
  const ac: z.infer<typeof AdapterConfig> = {
    peft_type: 'LORA', r: cfg.rank, lora_alpha: cfg.alpha, lora_dropout: cfg.dropout, target_modules: cfg.targets, base_model_name_or_path: rm.baseDir,
    lref: { version: 1, scheme: rm.scheme.id, contextLength: rm.model.config.contextLength, ...(rm.decision ? { decision: rm.decision } : {}) },
  };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(ac, null, 1) + '\n');
}

/** Loads base + adapters from an adapter folder (the base from the path it names, or `baseDir`). */
export function loadHFAdapter(dir: string, baseDir?: string): HFRelevanceModel {
  const file = join(dir, 'adapter_config.json');
  if (!existsSync(file)) throw new UserError(`${dir}: no adapter_config.json`);
  const p = AdapterConfig.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!p.success) throw new UserError(`${file}: ${p.error.issues[0].path.join('.')}: ${p.error.issues[0].message}`);
  const ac = p.data;
  const scheme = getScheme(ac.lref.scheme);
  if (ac.lref.decision) checkDecision(ac.lref.decision, scheme.labels, file);
  const rm = loadHFJudge(baseDir ?? ac.base_model_name_or_path, scheme, {
    contextLength: ac.lref.contextLength,
    lora: { rank: ac.r, alpha: ac.lora_alpha, dropout: ac.lora_dropout, targets: ac.target_modules },
  });
  const st = new SafetensorsFile(join(dir, 'adapter_model.safetensors'));
  const values = new Map<string, Float32Array>();
  for (const [name, v] of rm.model.params()) {
    const info = st.tensors.get(peftName(name));
    if (!info) throw new UserError(`${st.file}: missing tensor ${peftName(name)}`);
    const raw = readTensor(info);
    const [rows, cols] = info.shape; // transpose back to ours
    const t = new Float32Array(raw.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = raw[i * cols + j];
    if (t.length !== v.size) throw new UserError(`${st.file}: tensor ${peftName(name)} has ${t.length} values, expected ${v.size}`);
    values.set(name, t);
  }
  rm.model.assignParams(values);
  return ac.lref.decision ? { ...rm, decision: ac.lref.decision } : rm;
}

/**
 * Export: the adapters merged into the base weights, written as an imported-model folder plus
 * lref-judge.json. Built in a temp folder and renamed, so a failed export leaves nothing.
 */
export function exportHFJudge(rm: HFRelevanceModel, out: string): void {
  if (existsSync(out)) throw new UserError(`${out}: already exists`);
  const merged = rm.model.merged();
  const tmp = join(dirname(resolve(out)), `.${Date.now()}.${process.pid}.export.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    writeSafetensors(join(tmp, 'model.safetensors'), merged.weightEntries(), (name) => merged.weight(name).dataSync() as Float32Array);
    const { record } = openHF(rm.baseDir);
    const rec: ImportRecord = record ?? { version: 1, kind: 'lref-hf-import', spec: rm.model.spec, source: rm.baseDir, imported: new Date().toISOString(), sourceDtypes: {} };
    writeFileSync(join(tmp, 'lref-hf.json'), JSON.stringify({ ...rec, spec: rm.model.spec }, null, 1) + '\n');
    copyFileSync(join(rm.baseDir, 'config.json'), join(tmp, 'config.json'));
    for (const f of SIDE_FILES) if (existsSync(join(rm.baseDir, f))) copyFileSync(join(rm.baseDir, f), join(tmp, f));
    const card: JudgeCard = {
      version: 1, kind: 'lref-hf-judge', scheme: rm.scheme.id, contextLength: rm.model.config.contextLength, base: rm.baseDir,
      lora: rm.model.loraConfig(), ...(rm.decision ? { decision: rm.decision } : {}), created: new Date().toISOString(),
    };
    writeFileSync(join(tmp, 'lref-judge.json'), JSON.stringify(card, null, 1) + '\n');
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    merged.dispose();
  }
}

/** Loads an exported judge folder (merged weights, no adapters). */
export function loadExportedJudge(dir: string): HFRelevanceModel & { card: JudgeCard } {
  const file = join(dir, 'lref-judge.json');
  if (!existsSync(file)) throw new UserError(`${dir}: no lref-judge.json (export one with \`lref model export\`)`);
  const p = JudgeCard.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!p.success) throw new UserError(`${file}: ${p.error.issues[0].path.join('.')}: ${p.error.issues[0].message}`);
  const scheme = getScheme(p.data.scheme);
  if (p.data.decision) checkDecision(p.data.decision, scheme.labels, file);
  const rm = loadHFJudge(dir, scheme, { contextLength: p.data.contextLength });
  return { ...rm, ...(p.data.decision ? { decision: p.data.decision } : {}), card: p.data };
}
