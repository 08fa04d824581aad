/**
 * Test fixtures for the DPO stage (imported by dpo*.test.ts only): generated pairs, a small
 * run tokenizer, a StageContext on the smoke preset, and a hand-crafted label model whose label
 * ranking is known exactly.
 */
import { LREF5 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { generateDataset } from '../data/synth/index.ts';
import { DecoderLM } from '../model/gpt.ts';
import { snapshotParams } from '../model/lm.ts';
import { presetFor } from '../model/presets.ts';
import { loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import { labelToken, type Tokenizer } from '../text/tokenizer.ts';
import type { StageContext } from './context.ts';
import { trainRunTokenizer, type RelevanceModel } from './relevance-model.ts';

export interface DpoFixture {
  pairs: PairRecord[];
  tok: Tokenizer;
  template: PromptTemplate;
  ctx: StageContext;
  lines: string[];
}

/** `n` generated LREF-5 pairs (no rater noise) and a smoke-preset context around them. */
export function dpoFixture(n = 50, seed = 7, templateId = 'label'): DpoFixture {
  const pairs = generateDataset({ pairs: n, seed, noise: 0 }).pairs;
  const template = loadTemplate(templateId);
  // 320 = the ~40 specials + 256 bytes + a few dozen merges: enough for the smoke model's context.
  const tok = trainRunTokenizer(pairs, [template], 320);
  const preset = presetFor('smoke', tok.vocabSize);
  const lines: string[] = [];
  const ctx: StageContext = {
    tokenizer: tok,
    scheme: LREF5,
    modelConfig: preset.model,
    trainConfig: preset.train,
    seed,
    backend: 'cpu',
    log: (l) => lines.push(l),
  };
  return { pairs, tok, template, ctx, lines };
}

/**
 * A label model that answers the same for every prompt: the final LayerNorm's gain is 0 and its
 * bias e₀, so every position's hidden state is e₀ and (tied embeddings) the logit of token v is
 * tok_emb[v][0]. Label tokens get `logits[label]`; every other token −10, so a beam search over
 * the whole vocabulary meets the labels first, in the same order as scoring.
 */
export function craftedLabelModel(fx: DpoFixture, logits: Record<string, number>): RelevanceModel {
  const { tok } = fx;
  const model = new DecoderLM({ ...fx.ctx.modelConfig, seed: 5 });
  const values = snapshotParams(model);
  const D = model.config.dModel;
  const emb = values.get('tok_emb')!;
  for (let v = 0; v < tok.vocabSize; v++) emb[v * D] = -10;
  for (const [label, z] of Object.entries(logits)) emb[tok.tokenId(labelToken(label)) * D] = z;
  values.get('ln_f.g')!.fill(0);
  values.get('ln_f.b')!.fill(0)[0] = 1;
  model.assignParams(values);
  return { model, tokenizer: tok, scheme: LREF5, template: fx.template };
}
