import type { LabelScheme } from '../data/labels.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import type { PairRecord } from '../data/schema.ts';
import type { DecoderLM } from '../model/gpt.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { LabelPrediction } from './relevance-model.ts';

/**
 * What every LREF stage is handed by the pipeline: the run's shared tokenizer and label scheme,
 * the model shape, the training settings, the seed, and where to report progress. A stage never
 * reads globals or the CLI; the pipeline (and a notebook) build one of these and call the stages
 * in order.
 */
export interface StageContext {
  tokenizer: Tokenizer;
  scheme: LabelScheme;
  modelConfig: ModelConfig;
  /** base training settings; a stage may override steps/lr from its own config */
  trainConfig: TrainConfig;
  seed: number;
  /** the TF.js backend in use, for logs and run.json */
  backend: string;
  /** progress of a long step: stage name (e.g. "select/IM"), done, total, extra fields */
  progress?: (stage: string, done: number, total: number, fields?: Record<string, string>) => void;
  /** one human-readable line (what the stage decided, with numbers) */
  log?: (line: string) => void;
  /** checked between training steps: a notebook's interrupt or a cancelled run */
  signal?: AbortSignal;
  /** a model to fine-tune from: the pretrained base's copy (lref pretrain), else a fresh init of modelConfig */
  newModel?: () => DecoderLM;
  /**
   * Trains label-only judges another way than the built-in decoder on `tokenizer` (e.g. LoRA on an
   * imported model, hf-pipeline.ts). Where a stage needs a throwaway label judge (selection's aux
   * models) it asks this when present; tokenizer and modelConfig are then unused by that stage.
   */
  labelJudges?: LabelJudges;
}

/** Fresh label-only judges from the run's base (the seam between the built-in and imported models). */
export interface LabelJudges {
  /** Fine-tunes a fresh judge on `pairs` (graded `labels`, default each pair's own) for trainConfig.steps steps. */
  train(pairs: readonly PairRecord[], labels: readonly string[] | undefined, trainConfig: TrainConfig, onStep: (step: number, loss: number) => void): TrainedLabelJudge;
}

export interface TrainedLabelJudge {
  losses: number[];
  predict(pairs: readonly PairRecord[], batchSize?: number): LabelPrediction[];
  dispose(): void;
}

/** A context whose label judges all come from `labelJudges`: no run tokenizer or decoder shape (an imported model). */
export type JudgeContext = Omit<StageContext, 'tokenizer' | 'modelConfig' | 'newModel' | 'labelJudges'> & { labelJudges: LabelJudges };

/** A TrainConfig with some fields replaced, and the seed salted so sibling models differ. */
export function trainConfigFor(ctx: Pick<StageContext, 'trainConfig' | 'seed'>, override: Partial<TrainConfig>, salt = 0): TrainConfig {
  return { ...ctx.trainConfig, ...override, seed: (ctx.seed * 1000 + salt) >>> 0 };
}
