import { z } from 'zod';

/**
 * The shape of a decoder-only language model (and, with causal=false, of the BERT-style encoder
 * baseline). Every field has a default so presets stay a few lines; checkpoints store the parsed
 * config so a model can always be rebuilt from its own files.
 */
export const ModelConfig = z
  .object({
    /** Schema version of this record; bump when a field changes meaning. */
    version: z.literal(1).default(1),
    /** Number of token ids; no default on purpose: it must match the tokenizer in use. */
    vocabSize: z.number().int().min(2),
    /** 128: a query plus a product title and the label fit; attention cost grows with its square. */
    contextLength: z.number().int().min(2).default(128),
    /** 128: the smallest width that still learns the label task on our data in minutes on a CPU. */
    dModel: z.number().int().min(1).default(128),
    /** 4: head width 32 at d=128, the usual 32–64 range. */
    nHeads: z.number().int().min(1).default(4),
    /** 2: enough depth for query–title matching; each layer adds ~12·d² parameters. */
    nLayers: z.number().int().min(1).default(2),
    /** 4: the MLP widening of GPT-2/nanoGPT; nobody has shown small models want otherwise. */
    ffMult: z.number().int().min(1).default(4),
    /** 0.1: we train from scratch on tens of thousands of pairs, which overfits without it. */
    dropout: z.number().min(0).max(0.9).default(0.1),
    /** true: a decoder; false gives bidirectional attention for the BERT-style baseline. */
    causal: z.boolean().default(true),
    /** true: the LM head reuses the token embedding (fewer parameters, better at small scale). */
    tieEmbeddings: z.boolean().default(true),
    /** Seeds the weight init; dropout masks are seeded by the training step. */
    seed: z.number().int().default(1234),
  })
  .refine((c) => c.dModel % c.nHeads === 0, { message: 'dModel must be divisible by nHeads', path: ['nHeads'] });
export type ModelConfig = z.infer<typeof ModelConfig>;
export type ModelConfigInput = z.input<typeof ModelConfig>;

/** Hyper-parameters of one training run (SFT, CoT tuning; DPO adds its own on top). */
export const TrainConfig = z.object({
  /** Schema version of this record. */
  version: z.literal(1).default(1),
  /** 1e-3: small transformers trained from scratch tolerate (and need) a higher rate than 3e-4. */
  lr: z.number().positive().default(1e-3),
  /** 0.1: cosine decays to a tenth of the peak rate, as in nanoGPT/Chinchilla. */
  minLrRatio: z.number().min(0).max(1).default(0.1),
  /** 20 steps of linear warmup keep early Adam updates (poor second-moment estimates) small. */
  warmup: z.number().int().min(0).default(20),
  /** Total optimizer steps; the cosine reaches its floor here. */
  steps: z.number().int().min(1).default(500),
  /** 16 sequences per step: fits the 2-core budget at ctx 128. */
  batchSize: z.number().int().min(1).default(16),
  /** 0.1: AdamW's decoupled decay, nanoGPT's value. */
  weightDecay: z.number().min(0).default(0.1),
  /** false: embeddings are shared with the LM head and decaying them hurt small models in nanoGPT lore. */
  decayEmbeddings: z.boolean().default(false),
  /** 1.0: global-norm clipping guards against the occasional spike from a bad batch. */
  clipNorm: z.number().positive().default(1.0),
  /** (0.9, 0.95): GPT-3/nanoGPT betas; 0.95 reacts faster than 0.999 on short runs. */
  betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.95]),
  /** 1e-8: Adam's usual epsilon. */
  eps: z.number().positive().default(1e-8),
  /** Seeds batch order and dropout; same seed, same data ⇒ same loss trace. */
  seed: z.number().int().default(1),
});
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;
