import { existsSync, readFileSync } from 'node:fs';
import { parseJsonText } from '../util/json.ts';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DECISION_MODES } from '../eval/decision.ts';
import { FORMATS } from '../data/load.ts';
import { LoraConfig } from '../model/hf/base.ts';
import { OpenAITeacherConfig } from '../teachers/openai.ts';
import { inputError, UserError } from '../util/errors.ts';
import { CrossEncoderConfig } from './baselines/cross-encoder.ts';
import { CotConfig } from './cot.ts';
import { DpoConfig, MineConfig } from './dpo.ts';
import { PipelinePretrain } from './pretrain.ts';
import { SelectionConfig } from './select-rule.ts';
import { EarlyStop } from '../train/early-stop.ts';

/**
 * Everything one `lref pipeline` run does, as one versioned record: the data, the split, the model
 * size, each stage's settings (the stage modules' own schemas, embedded so a typo anywhere is named
 * by its full key path), the baselines and the seed. Presets (presets/*.json) are data; a config
 * file overrides preset fields key by key; the CLI's --data/--seed override both. run.json stores
 * the parsed result, defaults filled in, so a run can always be repeated from its own folder.
 */

const Fraction = z.number().min(0).max(1);

export const DataConfig = z.discriminatedUnion('source', [
  z
    .object({
      source: z.literal('generator'),
      /** pairs to generate with the run's seed (core/data/synth) */
      pairs: z.number().int().min(20),
      /** share of labels moved to a neighbouring grade, as raters slip */
      noise: Fraction.default(0.1),
    })
    .strict(),
  z
    .object({
      source: z.literal('file'),
      path: z.string().min(1),
      /** default: detected from the file */
      format: z.enum(FORMATS).optional(),
      /** jsonl only: the label scheme (default: inferred from the labels) */
      scheme: z.string().optional(),
    })
    .strict(),
]);
export type DataConfig = z.infer<typeof DataConfig>;

export const TeacherConfig = z.discriminatedUnion('kind', [
  /** the grading rules themselves (core/teachers/rules.ts): offline, deterministic, free */
  z.object({ kind: z.literal('rules'), maxWords: z.number().int().min(5).optional() }).strict(),
  /** rationales already in the data (pair.rationales) */
  z.object({ kind: z.literal('data') }).strict(),
  /** an OpenAI-compatible chat endpoint */
  z.object({ kind: z.literal('openai'), openai: OpenAITeacherConfig }).strict(),
]);
export type TeacherConfig = z.infer<typeof TeacherConfig>;

export const PipelineConfig = z
  .object({
    version: z.literal(1),
    /** the preset this config starts from (recorded; --preset or the file's own "preset" picks it) */
    preset: z.enum(['smoke', 'default']),
    /** seeds the data, the split, every init, sample and batch order */
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    /** 'dpo' (default): every stage. 'sft_all': the baselines and sft_all only — a quick look, or tuning the label SFT on valid. */
    stopAfter: z.enum(['sft_all', 'dpo']).default('dpo'),
    /** a folder from `lref pretrain`: its tokenizer and model replace tokenizer.* and model.*, and every decoder variant starts from its weights */
    pretrained: z.string().min(1).optional(),
    /**
     * An imported Hugging Face model (`lref model import`, or an HF folder): every decoder variant is
     * LoRA adapters on its frozen weights, prompts go through its tokenizer (and chat template), and
     * grades are read as its own first token of each grade name; tokenizer.* and model.* are unused.
     */
    hf: z
      .object({
        dir: z.string().min(1),
        /** positions the model is asked to handle (attention cost grows with its square) */
        contextLength: z.number().int().min(16).default(256),
        lora: LoraConfig.omit({ version: true, seed: true }).strict().default({ rank: 8, alpha: 16, dropout: 0.05, targets: [] }),
        /** the adapters' peak rate (default train.lr; LoRA usually wants ~2e-4, far below a from-scratch rate) */
        lr: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    /** pretrain the base inside the run (core/stages/pretrain.ts); ignored when `pretrained` names a folder; false: a random init */
    pretrain: z.union([PipelinePretrain, z.literal(false)]).optional(),
    data: DataConfig,
    /** by query: no query is in two splits */
    split: z
      .object({ train: Fraction, valid: Fraction, test: Fraction })
      .strict()
      .refine((s) => Math.abs(s.train + s.valid + s.test - 1) < 1e-6, { message: 'train + valid + test must be 1' })
      .refine((s) => s.train > 0 && s.test > 0, { message: 'train and test must be non-empty' }),
    tokenizer: z
      .object({
        /** byte-BPE vocabulary; at least the specials + 256 bytes (~300) */
        vocabSize: z.number().int().min(300),
        /** at most this many train pairs teach the merges (bounded time on big data) */
        samplePairs: z.number().int().min(1).default(20_000),
        /** teacher rationales (EE and RA) of this many train pairs join the corpus, so CoT text tokenizes well */
        rationalePairs: z.number().int().min(0).default(200),
      })
      .strict(),
    model: z
      .object({
        /** core/model/presets.ts size; the fields below override it */
        preset: z.enum(['smoke', 'tiny', 'small']),
        contextLength: z.number().int().min(16).optional(),
        dModel: z.number().int().min(1).optional(),
        nHeads: z.number().int().min(1).optional(),
        nLayers: z.number().int().min(1).optional(),
        dropout: z.number().min(0).max(0.9).optional(),
      })
      .strict(),
    /** label SFT (sft_all, sft_random, sft_selected) and the base every stage overrides from */
    train: z
      .object({
        steps: z.number().int().min(1),
        lr: z.number().positive(),
        batchSize: z.number().int().min(1),
        /**
         * The label prompt: a built-in id or a template JSON file (kind "label"). Every scored
         * variant is asked with it: the label SFT variants, the aux models, the cross-encoder, +label
         * and the `:scored` twins. Lets a study compare prompts over seeds.
         */
        template: z.string().min(1).default('label'),
        warmup: z.number().int().min(0),
        /**
         * What sft_random and sft_selected fine-tune. LREF fine-tunes its *base* model on the selected
         * tenth; here the base is a random init ('scratch', the paper's recipe taken literally). A model
         * trained from scratch on a few hundred pairs has not seen the easy cases the selection drops,
         * so 'sft_all' continues from the sft_all model instead (it plays the pretrained base's role)
         * for `subsetSteps` steps.
         */
        subsetBase: z.enum(['scratch', 'sft_all']).default('scratch'),
        /** steps of the subset fine-tune when subsetBase is 'sft_all' (default: a quarter of `steps`) */
        subsetSteps: z.number().int().min(1).optional(),
        /** Early stopping of the label SFT variants on the valid split, ranked by valid macro-F1 (train/early-stop.ts). */
        earlyStop: EarlyStop.optional(),
      })
      .strict(),
    selection: SelectionConfig,
    cot: CotConfig.extend({
      teacher: TeacherConfig.default({ kind: 'rules' }),
      /** the pairs CoT tunes on: stage 1's selection (LREF) or the whole train split */
      pairs: z.enum(['selected', 'train']).default('selected'),
    }),
    dpo: z
      .object({
        mine: MineConfig.default(MineConfig.parse({})),
        train: DpoConfig.default(DpoConfig.parse({})),
        /** train pairs beam-searched for preferences (a seeded sample; beam search is the slow part) */
        minePairs: z.number().int().min(1).default(2000),
      })
      .strict(),
    baselines: z
      .object({
        lexical: z.boolean().default(true),
        crossEncoder: CrossEncoderConfig.extend({ enabled: z.boolean().default(true) }),
      })
      .strict(),
    eval: z
      .object({
        /** tokens a CoT variant may write (rationale + answer) */
        maxNewTokens: z.number().int().min(4).default(64),
        /** prompts per scoring forward pass */
        batchSize: z.number().int().min(1).default(64),
        /**
         * How a scored variant's grade probabilities become a grade: "valid-macro-f1" fits one
         * offset per grade on valid (eval/decision.ts; valid figures out of fold), "argmax" does not.
         */
        decision: z.enum(DECISION_MODES).default('valid-macro-f1'),
      })
      .strict()
      .default({ maxNewTokens: 64, batchSize: 64, decision: 'valid-macro-f1' }),
  })
  .strict();
export type PipelineConfig = z.infer<typeof PipelineConfig>;

export const PIPELINE_PRESETS = ['smoke', 'default'] as const;
export type PipelinePresetName = (typeof PIPELINE_PRESETS)[number];

const PRESET_DIR = fileURLToPath(new URL('./presets/', import.meta.url));

export function presetFile(name: PipelinePresetName): string {
  return `${PRESET_DIR}${name}.json`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `over` laid onto `base`: objects merge key by key, anything else replaces. An object whose
 * discriminator (`source`, `kind`) changes replaces wholesale, so switching the data from the
 * generator to a file does not drag the generator's fields along.
 */
export function mergeConfig(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  for (const d of ['source', 'kind']) if (d in over && d in base && over[d] !== base[d]) return over;
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v;
  return out;
}

function readJson(file: string): JsonObject {
  if (!existsSync(file)) throw inputError(file, undefined, 'no such config file');
  const json = parseJsonText(readFileSync(file, 'utf8'), file);
  if (!isObject(json)) throw inputError(file, undefined, 'a pipeline config is a JSON object');
  return json;
}

function has(obj: Json | undefined, path: readonly PropertyKey[]): boolean {
  let cur: Json | undefined = obj;
  for (const k of path) {
    if (!isObject(cur) || !(String(k) in cur)) return false;
    cur = cur[String(k)];
  }
  return true;
}

export interface ConfigSources {
  /** the preset to start from; default: the file's own "preset" key, else "default" */
  preset?: PipelinePresetName;
  /** a JSON config file whose fields override the preset's */
  file?: string;
  /** applied last (the CLI's flags), e.g. {seed: 3} */
  overrides?: Record<string, unknown>;
}

/** Preset → file → overrides, merged and validated. Errors name the key path and the file it came from. */
export function loadPipelineConfig(src: ConfigSources = {}): PipelineConfig {
  const fileJson = src.file ? readJson(src.file) : undefined;
  const fromFile = fileJson?.preset;
  if (fromFile !== undefined && !(PIPELINE_PRESETS as readonly Json[]).includes(fromFile)) {
    throw inputError(src.file!, undefined, `preset: must be one of ${PIPELINE_PRESETS.join(', ')}, got ${JSON.stringify(fromFile)}`);
  }
  const presetName = src.preset ?? (fromFile as PipelinePresetName | undefined) ?? 'default';
  if (!(PIPELINE_PRESETS as readonly string[]).includes(presetName)) {
    throw new UserError(`--preset must be one of ${PIPELINE_PRESETS.join(', ')}, got "${presetName}"`);
  }
  const pFile = presetFile(presetName);
  let merged = readJson(pFile) as Json;
  if (fileJson) merged = mergeConfig(merged, fileJson);
  merged = mergeConfig(merged, { preset: presetName });
  if (src.overrides) merged = mergeConfig(merged, src.overrides as JsonObject);

  const parsed = PipelineConfig.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const layers: [string, Json | undefined][] = [
    ['command-line flags', src.overrides as JsonObject | undefined],
    [src.file ?? '', fileJson],
    [pFile, readJson(pFile)],
  ];
  if (issue.code === 'unrecognized_keys') {
    const path = [...issue.path, issue.keys[0]];
    const also = issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).join(', ')})` : '';
    return fail(blame(layers, path), `${path.join('.')}: unknown key${also}`);
  }
  return fail(blame(layers, issue.path), `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * The layer an error belongs to: the one holding the longest prefix of its key path (a missing
 * field is the fault of whoever wrote its parent), the flags before the file before the preset.
 */
function blame(layers: readonly [string, Json | undefined][], path: readonly PropertyKey[]): string {
  let best = layers[layers.length - 1][0];
  let bestLen = -1;
  for (const [name, json] of layers) {
    if (json === undefined || name === '') continue;
    let len = 0;
    while (len < path.length && has(json, path.slice(0, len + 1))) len++;
    if (len > bestLen) {
      best = name;
      bestLen = len;
    }
  }
  return best;
}

function fail(where: string, problem: string): never {
  throw where === 'command-line flags' ? new UserError(`${where}: ${problem}`) : inputError(where, undefined, problem);
}

/**
 * A pipeline run's config, typed: run.json stores it as a versioned JSON object (core/runs does not
 * know the pipeline's schema), so readers that need the fields parse it here. `source` names the file.
 */
export function pipelineConfigOf(config: unknown, source: string): PipelineConfig {
  const parsed = PipelineConfig.safeParse(config);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw inputError(source, undefined, `config.${issue.path.join('.')}: ${issue.message} (not a pipeline config of this version)`);
}
