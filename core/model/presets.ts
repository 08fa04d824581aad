import { ModelConfig, TrainConfig } from './config.ts';

/** A named model size with the training settings it was tuned with. */
export interface Preset {
  readonly model: ModelConfig;
  readonly train: TrainConfig;
}

/** CI and unit tests: trains a step in milliseconds; learns only toy tasks. */
export const smoke: Preset = {
  model: ModelConfig.parse({ vocabSize: 64, contextLength: 32, dModel: 32, nHeads: 2, nLayers: 1, dropout: 0 }),
  train: TrainConfig.parse({ batchSize: 4, steps: 50, warmup: 5, lr: 3e-3 }),
};

/** The default workbench model (~0.5M parameters): a full LREF run fits in minutes on wasm. */
export const tiny: Preset = {
  model: ModelConfig.parse({ vocabSize: 512, contextLength: 128, dModel: 128, nHeads: 4, nLayers: 2 }),
  train: TrainConfig.parse({ batchSize: 16, lr: 1e-3 }),
};

/** When there is time (or a native backend): ~3.3M parameters, longer context for CoT rationales. */
export const small: Preset = {
  model: ModelConfig.parse({ vocabSize: 512, contextLength: 256, dModel: 256, nHeads: 4, nLayers: 4 }),
  train: TrainConfig.parse({ batchSize: 16, lr: 6e-4 }),
};

export const presets = { smoke, tiny, small } as const;
export type PresetName = keyof typeof presets;

/** A preset with the vocabulary size of the tokenizer actually in use. */
export function presetFor(name: PresetName, vocabSize: number): Preset {
  const p = presets[name];
  return { model: ModelConfig.parse({ ...p.model, vocabSize }), train: p.train };
}
