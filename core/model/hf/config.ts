import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../util/errors.ts';

/**
 * Hugging Face config.json → one normalised spec our two architecture files read. Only fields
 * that change the maths are read; a field whose value we cannot honour (rope scaling, sliding
 * window, an activation other than the architecture's) is an error naming it, never ignored.
 */

const tokenIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

/** GPT-2 (GPT2LMHeadModel): LayerNorm, learned positions, GELU (tanh), fused c_attn. */
export const Gpt2Config = z.object({
  model_type: z.literal('gpt2'),
  vocab_size: z.number().int().min(2),
  n_positions: z.number().int().min(1),
  n_embd: z.number().int().min(1),
  n_layer: z.number().int().min(1),
  n_head: z.number().int().min(1),
  n_inner: z.number().int().min(1).nullish(),
  activation_function: z.enum(['gelu_new', 'gelu_pytorch_tanh']).default('gelu_new'),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  tie_word_embeddings: z.boolean().default(true),
  scale_attn_weights: z.literal(true).default(true),
  scale_attn_by_inverse_layer_idx: z.literal(false).default(false),
  reorder_and_upcast_attn: z.boolean().default(false),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
});

/** Llama family (Llama, Qwen2, SmolLM, Mistral without sliding window): RMSNorm, RoPE, SwiGLU, GQA. */
export const LlamaConfig = z.object({
  model_type: z.enum(['llama', 'qwen2', 'mistral']),
  vocab_size: z.number().int().min(2),
  hidden_size: z.number().int().min(1),
  intermediate_size: z.number().int().min(1),
  num_hidden_layers: z.number().int().min(1),
  num_attention_heads: z.number().int().min(1),
  num_key_value_heads: z.number().int().min(1).nullish(),
  head_dim: z.number().int().min(1).nullish(),
  max_position_embeddings: z.number().int().min(1),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.null().optional().describe('scaled RoPE (llama3, yarn, dynamic) is not implemented'),
  hidden_act: z.literal('silu').default('silu'),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().default(false),
  use_sliding_window: z.literal(false).optional(),
  sliding_window: z.unknown().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
});

/** What our model code needs, for either architecture. Stored in an imported folder's lref-hf.json. */
export const HFSpec = z.object({
  version: z.literal(1).default(1),
  arch: z.enum(['gpt2', 'llama']),
  /** The config's model_type (gpt2, llama, qwen2, mistral). */
  modelType: z.string(),
  vocabSize: z.number().int().min(2),
  hidden: z.number().int().min(1),
  layers: z.number().int().min(1),
  heads: z.number().int().min(1),
  /** Key/value heads (< heads: grouped-query attention). */
  kvHeads: z.number().int().min(1),
  headDim: z.number().int().min(1),
  intermediate: z.number().int().min(1),
  maxPositions: z.number().int().min(1),
  normEps: z.number().positive(),
  ropeTheta: z.number().positive(),
  tieEmbeddings: z.boolean(),
  /** Biases on the q, k, v projections (GPT-2, Qwen2, Llama with attention_bias). */
  qkvBias: z.boolean(),
  /** Bias on the output projection (GPT-2, Llama with attention_bias; not Qwen2). */
  oBias: z.boolean(),
  mlpBias: z.boolean(),
  eosIds: z.array(z.number().int()).default([]),
  bosId: z.number().int().optional(),
});
export type HFSpec = z.infer<typeof HFSpec>;

const ids = (x: number | number[] | null | undefined): number[] => (x == null ? [] : Array.isArray(x) ? x : [x]);

/** Parses a config.json object; `file` names it in errors. */
export function specFromConfig(raw: unknown, file: string): HFSpec {
  const r = raw as { model_type?: unknown; architectures?: unknown };
  const type = r?.model_type;
  if (type === 'gpt2') {
    const c = parse(Gpt2Config, raw, file);
    if (c.n_embd % c.n_head) throw new UserError(`${file}: n_embd ${c.n_embd} is not divisible by n_head ${c.n_head}`);
    return HFSpec.parse({
      arch: 'gpt2', modelType: 'gpt2', vocabSize: c.vocab_size, hidden: c.n_embd, layers: c.n_layer, heads: c.n_head, kvHeads: c.n_head,
      headDim: c.n_embd / c.n_head, intermediate: c.n_inner ?? 4 * c.n_embd, maxPositions: c.n_positions, normEps: c.layer_norm_epsilon,
      ropeTheta: 10000, tieEmbeddings: c.tie_word_embeddings, qkvBias: true, oBias: true, mlpBias: true,
      eosIds: ids(c.eos_token_id), bosId: ids(c.bos_token_id)[0],
    });
  }
  if (type === 'llama' || type === 'qwen2' || type === 'mistral') {
    const c = parse(LlamaConfig, raw, file);
    const kv = c.num_key_value_heads ?? c.num_attention_heads;
    if (c.num_attention_heads % kv) throw new UserError(`${file}: num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${kv}`);
    const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
    if (!Number.isInteger(headDim)) throw new UserError(`${file}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
    if (headDim % 2) throw new UserError(`${file}: head_dim ${headDim} is odd; rotary embeddings need an even head width`);
    // Qwen2 always has q/k/v biases and no o bias (no config field); Llama's attention_bias covers all four.
    const qwen = type === 'qwen2';
    return HFSpec.parse({
      arch: 'llama', modelType: type, vocabSize: c.vocab_size, hidden: c.hidden_size, layers: c.num_hidden_layers, heads: c.num_attention_heads,
      kvHeads: kv, headDim, intermediate: c.intermediate_size, maxPositions: c.max_position_embeddings, normEps: c.rms_norm_eps,
      ropeTheta: c.rope_theta, tieEmbeddings: c.tie_word_embeddings, qkvBias: qwen ? c.attention_bias ?? true : c.attention_bias ?? false,
      oBias: qwen ? false : c.attention_bias ?? false, mlpBias: c.mlp_bias, eosIds: ids(c.eos_token_id), bosId: ids(c.bos_token_id)[0],
    });
  }
  const arch = Array.isArray(r?.architectures) ? ` (${(r.architectures as unknown[]).join(', ')})` : '';
  throw new UserError(`${file}: model_type ${JSON.stringify(type)}${arch} is not supported; supported: gpt2, llama, qwen2, mistral`);
}

function parse<T extends z.ZodTypeAny>(schema: T, raw: unknown, file: string): z.infer<T> {
  const p = schema.safeParse(raw);
  if (p.success) return p.data;
  const i = p.error.issues[0];
  const field = i.path.join('.') || '(root)';
  const got = i.path.length ? ` (got ${JSON.stringify((raw as Record<string, unknown>)[String(i.path[0])])})` : '';
  throw new UserError(`${file}: ${field}: ${i.message}${got}`);
}

/** Reads `dir`/config.json. */
export function readHFConfig(dir: string): { spec: HFSpec; raw: Record<string, unknown> } {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new UserError(`${dir}: no config.json (not a Hugging Face model folder)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return { spec: specFromConfig(raw, file), raw };
}

/** Parameter count implied by the spec (embeddings counted once when tied). */
export function specParamCount(s: HFSpec): number {
  const D = s.hidden;
  const qd = s.heads * s.headDim;
  const kvd = s.kvHeads * s.headDim;
  const attn = D * qd + 2 * D * kvd + qd * D + (s.qkvBias ? qd + 2 * kvd : 0) + (s.oBias ? D : 0);
  const mlp = s.arch === 'gpt2' ? 2 * D * s.intermediate + s.intermediate + D : 3 * D * s.intermediate + (s.mlpBias ? 2 * s.intermediate + D : 0);
  const norms = s.arch === 'gpt2' ? 4 * D : 2 * D;
  const emb = s.vocabSize * D + (s.arch === 'gpt2' ? s.maxPositions * D : 0);
  const head = s.tieEmbeddings ? 0 : s.vocabSize * D;
  return emb + s.layers * (attn + mlp + norms) + (s.arch === 'gpt2' ? 2 * D : D) + head;
}
