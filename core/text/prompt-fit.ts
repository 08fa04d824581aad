import type { PairRecord } from '../data/schema.ts';
import { summarise, type Summary } from '../data/inspect.ts';
import type { Tokenizer } from './tokenizer.ts';
import { encodePrompt, HIGHLIGHT_TOKEN, type PromptTemplate } from './prompts.ts';

/**
 * How well a data set's prompts fit the model's context: token counts of the rendered prompt (with
 * its <hl> marks) and the share that fitToContext must cut. A cut prompt loses the end of its
 * product text first (description, attributes, then title), so a high share means the model grades
 * products it cannot fully see; `lref data inspect` and every pipeline run report it.
 */
export interface PromptFit {
  template: string;
  context: number;
  vocabSize: number;
  pairs: number;
  /** prompt tokens, marks included */
  tokens: Summary;
  /** <hl> marks per prompt */
  marks: Summary;
  /** prompts longer than context − 2 (room for the grade token and <eos>) */
  cut: number;
  cutShare: number;
}

export function promptFit(tok: Tokenizer, template: PromptTemplate, pairs: readonly PairRecord[], context: number): PromptFit {
  const hl = tok.specialTokens.includes(HIGHLIGHT_TOKEN) ? tok.tokenId(HIGHLIGHT_TOKEN) : -1;
  const lengths: number[] = [];
  const marks: number[] = [];
  let cut = 0;
  for (const p of pairs) {
    const ids = encodePrompt(tok, template, p);
    lengths.push(ids.length);
    marks.push(ids.filter((id) => id === hl).length);
    if (ids.length + 2 > context) cut++;
  }
  return {
    template: template.id,
    context,
    vocabSize: tok.vocabSize,
    pairs: pairs.length,
    tokens: summarise(lengths),
    marks: summarise(marks),
    cut,
    cutShare: pairs.length ? cut / pairs.length : 0,
  };
}

/** One line for logs and the inspect table. */
export function describePromptFit(f: PromptFit, what = 'prompts'): string {
  return (
    `${what}: ${f.template} template, vocabulary ${f.vocabSize}: mean ${f.tokens.mean.toFixed(1)} tokens (max ${f.tokens.max}), ` +
    `${f.marks.mean.toFixed(1)} <hl> marks; ${f.cut} of ${f.pairs} (${(100 * f.cutShare).toFixed(1)}%) cut to fit a context of ${f.context}`
  );
}
