import type { LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import type { PreferenceExample, StageExample } from '../runs/schema.ts';
import { renderCompletion, renderPrompt, type PromptTemplate } from '../text/prompts.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { CotRationale } from './cot-data.ts';
import type { PreferencePair } from './dpo-mine.ts';

/**
 * The stage datasets as text, for the run folder's datasets/ (what `lref export --to trl|llamafactory`
 * reads). Prompts are rendered through the template the stage trained with (renderPrompt: the
 * original text, no <hl> marks — a trainer with another tokenizer adds those marks or goes without);
 * completions are the template's layout. DPO completions are decoded from the mined tokens, as the
 * policy wrote them (lower-cased when the run's tokenizer is).
 */

export function labelDataset(template: PromptTemplate, pairs: readonly PairRecord[]): StageExample[] {
  return pairs.map((p) => ({ pair_id: p.pair_id, kind: 'label', prompt: renderPrompt(template, p), completion: renderCompletion(template, p.label), label: p.label }));
}

export function cotDataset(
  templates: Readonly<Record<'ee' | 'ra' | 'dr', PromptTemplate>>,
  pairs: readonly PairRecord[],
  rationales: Partial<Record<'ee' | 'ra' | 'dr', readonly CotRationale[]>>,
  scheme: LabelScheme,
  rules?: string,
): StageExample[] {
  const byId = new Map(pairs.map((p) => [p.pair_id, p]));
  const out: StageExample[] = [];
  for (const kind of ['ee', 'ra', 'dr'] as const) {
    for (const r of rationales[kind] ?? []) {
      const p = byId.get(r.pair_id);
      if (!p) continue;
      const t = templates[kind];
      const prompt = renderPrompt(t, p, { scheme, rules, wrong_label: r.wrong });
      out.push({ pair_id: p.pair_id, kind, prompt, completion: renderCompletion(t, p.label, r.rationale), label: p.label, rationale: r.rationale });
    }
  }
  return out;
}

export function preferenceDataset(
  template: PromptTemplate,
  pairs: readonly PairRecord[],
  prefs: readonly PreferencePair[],
  tok: Tokenizer,
  scheme: LabelScheme,
  rules?: string,
): PreferenceExample[] {
  const byId = new Map(pairs.map((p) => [p.pair_id, p]));
  return prefs.flatMap((q) => {
    const p = byId.get(q.pair_id);
    if (!p) return [];
    return [{ pair_id: q.pair_id, prompt: renderPrompt(template, p, { scheme, rules }), chosen: tok.decode(q.chosen), rejected: tok.decode(q.rejected), gold: q.gold, rejected_label: q.rejected_label }];
  });
}
