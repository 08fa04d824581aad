import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { UserError } from '../../util/errors.ts';
import { HFSpec, readHFConfig } from './config.ts';
import type { HFCausalLM, HFLoadOptions } from './base.ts';
import { Gpt2LM } from './gpt2.ts';
import { LlamaLM } from './llama.ts';
import { SafetensorsStore, writeSafetensors } from './safetensors.ts';

/**
 * Opening a Hugging Face model folder (or one `lref model import` wrote, which is the same layout
 * in float32 with canonical names plus lref-hf.json) and building our model from it.
 */

/** Written by `lref model import` beside the copied config and weights. */
export const ImportRecord = z.object({
  version: z.literal(1),
  kind: z.literal('lref-hf-import'),
  spec: HFSpec,
  source: z.string(),
  imported: z.string(),
  /** dtype → tensor count in the source, e.g. {BF16: 290}. */
  sourceDtypes: z.record(z.string(), z.number()),
});
export type ImportRecord = z.infer<typeof ImportRecord>;

/** Files beside the weights that travel with an import (tokenizer, chat template, generation defaults). */
export const SIDE_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json'] as const;

export function expectedWeights(spec: HFSpec): Array<{ name: string; shape: number[] }> {
  return spec.arch === 'gpt2' ? Gpt2LM.expectedWeights(spec) : LlamaLM.expectedWeights(spec);
}

/**
 * Where each canonical tensor lives in this checkpoint: GPT-2's original files drop the
 * `transformer.` prefix; a tied head may still be saved. Missing or mis-shaped tensors are errors
 * naming the tensor and the file.
 */
export function resolveWeights(dir: string, spec: HFSpec, store: SafetensorsStore): Array<{ name: string; shape: number[]; source: string }> {
  return expectedWeights(spec).map((e) => {
    const candidates = [e.name, e.name.replace(/^transformer\./, ''), e.name.replace(/^model\./, '')];
    const source = candidates.find((c) => store.has(c));
    if (!source) throw new UserError(`${dir}: missing tensor ${e.name} (expected shape [${e.shape}] for ${spec.modelType})`);
    const info = store.info(source);
    if (info.shape.length !== e.shape.length || info.shape.some((d, i) => d !== e.shape[i]))
      throw new UserError(`${info.file}: tensor ${source} has shape [${info.shape}], config.json implies [${e.shape}]`);
    return { ...e, source };
  });
}

export interface OpenedHF {
  spec: HFSpec;
  dir: string;
  store: SafetensorsStore;
  record?: ImportRecord;
}

/** Reads the config (or lref-hf.json) and the safetensors headers; no weights yet. */
export function openHF(dir: string): OpenedHF {
  if (!existsSync(dir)) throw new UserError(`${dir}: no such folder`);
  const recFile = join(dir, 'lref-hf.json');
  let record: ImportRecord | undefined;
  let spec: HFSpec;
  if (existsSync(recFile)) {
    const p = ImportRecord.safeParse(JSON.parse(readFileSync(recFile, 'utf8')));
    if (!p.success) throw new UserError(`${recFile}: ${p.error.issues[0].path.join('.')}: ${p.error.issues[0].message}`);
    record = p.data;
    spec = record.spec;
  } else spec = readHFConfig(dir).spec;
  return { spec, dir, store: SafetensorsStore.open(dir), record };
}

/** Builds the model from a folder, one tensor read at a time. */
export function loadHFModel(dir: string, opts: HFLoadOptions = {}): HFCausalLM {
  const { spec, store } = openHF(dir);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const w of resolveWeights(dir, spec, store)) weights.set(w.name, tf.tensor(store.read(w.source, w.shape), w.shape, 'float32'));
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    throw e;
  }
  return spec.arch === 'gpt2' ? new Gpt2LM(spec, weights, opts) : new LlamaLM(spec, weights, opts);
}

/**
 * `lref model import`: checks the folder, then writes `out` with config.json, model.safetensors
 * (float32, canonical names, streamed one tensor at a time), the tokenizer files and lref-hf.json.
 * Built in a temp folder renamed into place, so a failed import leaves nothing behind.
 */
export function importHF(src: string, out: string): ImportRecord {
  const { spec, store } = openHF(src);
  if (!existsSync(join(src, 'tokenizer.json'))) throw new UserError(`${src}: no tokenizer.json (the workbench reads the fast-tokenizer file; save the tokenizer with the original framework first)`);
  if (existsSync(out)) throw new UserError(`${out}: already exists (choose a new --out folder)`);
  const entries = resolveWeights(src, spec, store);
  const dtypes: Record<string, number> = {};
  for (const e of entries) {
    const d = store.info(e.source).dtype;
    dtypes[d] = (dtypes[d] ?? 0) + 1;
  }
  const tmp = join(dirname(resolve(out)), `.${Date.now()}.${process.pid}.import.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    const bySource = new Map(entries.map((e) => [e.name, e.source]));
    writeSafetensors(join(tmp, 'model.safetensors'), entries, (name) => store.read(bySource.get(name)!));
    copyFileSync(join(src, 'config.json'), join(tmp, 'config.json'));
    for (const f of SIDE_FILES) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(tmp, f));
    const record: ImportRecord = { version: 1, kind: 'lref-hf-import', spec, source: resolve(src), imported: new Date().toISOString(), sourceDtypes: dtypes };
    writeFileSync(join(tmp, 'lref-hf.json'), JSON.stringify(record, null, 1) + '\n');
    renameSync(tmp, out);
    return record;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

