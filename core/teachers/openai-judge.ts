import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { chatLines } from '../text/pair-lines.ts';
import { parseAnswer } from '../text/prompts.ts';
import { inputError } from '../util/errors.ts';
import { OpenAITeacher, type ChatMessage, type OpenAITeacherConfig } from './openai.ts';

/**
 * Zero-shot judgments from any OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp's server,
 * `lref serve`, OpenAI): a prompt template over pairs, through the teacher's client (the openai
 * package, our concurrency limit and disk cache), each answer read with parseAnswer — a grade the
 * answer does not name is null, never guessed. The user message carries the pair as "field: value"
 * lines (query, title, brand, category, attributes, description), which `lref serve` also reads.
 */

export const JudgeTemplate = z
  .object({
    version: z.literal(1),
    id: z.string().min(1),
    /** {{labels}}: the grades best → worst with their meanings */
    system: z.string().min(1),
    /** {{pair}}: the pair as field lines */
    user: z.string().min(1),
  })
  .strict();
export type JudgeTemplate = z.infer<typeof JudgeTemplate>;

export const DEFAULT_JUDGE_TEMPLATE: JudgeTemplate = {
  version: 1,
  id: 'zero-shot-v1',
  system:
    'You grade how relevant a product is to an e-commerce search query. The grades, best to worst:\n{{labels}}\n' +
    'Give one short sentence of reasoning, then a last line "Answer: <grade>" with one grade name exactly as written above.',
  user: '{{pair}}',
};

export function loadJudgeTemplate(file: string): JudgeTemplate {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw inputError(file, undefined, `cannot read the judge template (${(e as Error).message})`);
  }
  const parsed = JudgeTemplate.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(file, undefined, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function judgeMessages(t: JudgeTemplate, pair: PairRecord, scheme: LabelScheme): ChatMessage[] {
  const values: Record<string, string> = {
    labels: scheme.labels.map((l) => `- ${l}: ${scheme.meaning[l] ?? ''}`.trimEnd()).join('\n'),
    pair: chatLines(pair),
  };
  const fill = (text: string) => text.replace(/\{\{\s*(labels|pair)\s*\}\}/g, (_m, k: string) => values[k]);
  return [
    { role: 'system', content: fill(t.system) },
    { role: 'user', content: fill(t.user) },
  ];
}

export interface Judgment {
  pair_id: string;
  label: string | null;
  /** the answer without its "Answer: …" line */
  rationale: string;
}

export async function judgePairs(
  pairs: readonly PairRecord[],
  scheme: LabelScheme,
  cfg: z.input<typeof OpenAITeacherConfig>,
  opts: { template?: JudgeTemplate; onProgress?: (done: number, total: number) => void } = {},
): Promise<Judgment[]> {
  const client = new OpenAITeacher(cfg);
  const template = opts.template ?? DEFAULT_JUDGE_TEMPLATE;
  let done = 0;
  return Promise.all(
    pairs.map(async (p) => {
      const answer = await client.complete(judgeMessages(template, p, scheme));
      opts.onProgress?.(++done, pairs.length);
      const parsed = parseAnswer(answer, scheme);
      const rationale = answer.replace(/\n?\s*answer\s*(?:is|:)?[^\n]*$/i, '').trim();
      return { pair_id: p.pair_id, label: 'label' in parsed ? parsed.label : null, rationale };
    }),
  );
}
