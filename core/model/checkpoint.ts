import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { ModelConfig, TrainConfig } from './config.ts';
import { DecoderLM } from './gpt.ts';
import { AdamW } from '../train/adamw.ts';
import { makeOptimizer } from '../train/loop.ts';

/**
 * A checkpoint folder:
 *   checkpoint.json  manifest: version, step, model + train config, tensor names/shapes/offsets
 *   weights.bin      every parameter, float32 little-endian, concatenated in manifest order
 *   optimizer.bin    AdamW moments (m then v per parameter), same encoding
 *   tokenizer.json   the tokenizer's own JSON, when given
 * checkpoint.json is written last, so a folder with a valid manifest has all the files it names.
 */

const TensorEntry = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  /** Offset in float32 elements from the start of the .bin file. */
  offset: z.number().int().min(0),
});
type TensorEntry = z.infer<typeof TensorEntry>;

export const CheckpointManifest = z.object({
  version: z.literal(1),
  kind: z.literal('lref-decoder-lm'),
  step: z.number().int().min(0),
  created: z.string(),
  config: ModelConfig,
  trainConfig: TrainConfig.optional(),
  weights: z.object({ file: z.literal('weights.bin'), tensors: z.array(TensorEntry) }),
  optimizer: z
    .object({ file: z.literal('optimizer.bin'), t: z.number().int().min(0), tensors: z.array(TensorEntry) })
    .optional(),
  tokenizer: z.literal('tokenizer.json').optional(),
});
export type CheckpointManifest = z.infer<typeof CheckpointManifest>;

export interface SaveInput {
  model: DecoderLM;
  optimizer?: AdamW;
  trainConfig?: TrainConfig;
  step: number;
  tokenizerJson?: unknown;
}

export interface Loaded {
  model: DecoderLM;
  /** Restored when the checkpoint has optimizer state and a train config to rebuild AdamW from. */
  optimizer?: AdamW;
  trainConfig?: TrainConfig;
  step: number;
  tokenizerJson?: unknown;
  manifest: CheckpointManifest;
}

/** Packs tensors into one little-endian float32 buffer plus their manifest entries. */
function pack(entries: Array<[string, tf.Tensor]>): { bytes: Uint8Array; tensors: TensorEntry[] } {
  const total = entries.reduce((n, [, t]) => n + t.size, 0);
  const buf = Buffer.alloc(total * 4);
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const data = t.dataSync();
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], (offset + i) * 4);
    tensors.push({ name, shape: [...t.shape], offset });
    offset += t.size;
  }
  return { bytes: buf, tensors };
}

function unpack(file: string, tensors: TensorEntry[]): Map<string, Float32Array> {
  if (!existsSync(file)) throw new UserError(`${file}: missing (named by checkpoint.json)`);
  const buf = readFileSync(file);
  const need = tensors.reduce((n, t) => Math.max(n, t.offset + t.shape.reduce((a, b) => a * b, 1)), 0) * 4;
  if (buf.length !== need) throw new UserError(`${file}: ${buf.length} bytes, checkpoint.json expects ${need}`);
  const out = new Map<string, Float32Array>();
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const arr = new Float32Array(n);
    for (let i = 0; i < n; i++) arr[i] = buf.readFloatLE((t.offset + i) * 4);
    out.set(t.name, arr);
  }
  return out;
}

export function saveCheckpoint(dir: string, input: SaveInput): CheckpointManifest {
  const weights = pack([...input.model.params()]);
  writeFileAtomic(join(dir, 'weights.bin'), weights.bytes);
  let optimizer: CheckpointManifest['optimizer'];
  if (input.optimizer) {
    const o = pack(input.optimizer.stateEntries());
    writeFileAtomic(join(dir, 'optimizer.bin'), o.bytes);
    optimizer = { file: 'optimizer.bin', t: input.optimizer.t, tensors: o.tensors };
  }
  if (input.tokenizerJson !== undefined) {
    writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(input.tokenizerJson));
  }
  const manifest: CheckpointManifest = {
    version: 1,
    kind: 'lref-decoder-lm',
    step: input.step,
    created: new Date().toISOString(),
    config: input.model.config,
    trainConfig: input.trainConfig,
    weights: { file: 'weights.bin', tensors: weights.tensors },
    optimizer,
    tokenizer: input.tokenizerJson !== undefined ? 'tokenizer.json' : undefined,
  };
  writeFileAtomic(join(dir, 'checkpoint.json'), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}

function readJson(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file}: missing`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function loadCheckpoint(dir: string): Loaded {
  const manifestFile = join(dir, 'checkpoint.json');
  const parsed = CheckpointManifest.safeParse(readJson(manifestFile));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${manifestFile}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  const weights = unpack(join(dir, manifest.weights.file), manifest.weights.tensors);
  const model = new DecoderLM(manifest.config);
  try {
    model.assignParams(weights);
  } catch (e) {
    model.dispose();
    throw new UserError(`${join(dir, manifest.weights.file)}: ${(e as Error).message}`);
  }
  let optimizer: AdamW | undefined;
  if (manifest.optimizer && manifest.trainConfig) {
    const state = unpack(join(dir, manifest.optimizer.file), manifest.optimizer.tensors);
    optimizer = makeOptimizer(model, manifest.trainConfig);
    optimizer.t = manifest.optimizer.t;
    for (const [name, v] of optimizer.stateEntries()) {
      const data = state.get(name);
      if (!data || data.length !== v.size) {
        optimizer.dispose();
        model.dispose();
        throw new UserError(`${join(dir, manifest.optimizer.file)}: state ${name} missing or wrong size`);
      }
      tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    }
  }
  const tokenizerJson = manifest.tokenizer ? readJson(join(dir, manifest.tokenizer)) : undefined;
  return { model, optimizer, trainConfig: manifest.trainConfig, step: manifest.step, tokenizerJson, manifest };
}
