import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { runInfo, runPairs, runPredictions } from './load-decisions.ts';
import { loadTemplate, renderCompletion, renderPrompt } from '../text/prompts.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { inputError, UserError } from '../util/errors.ts';
import { parseJsonText } from '../util/json.ts';

/**
 * Human review of a run: a reviewer marks a gold label as wrong (with the grade it should be) or
 * leaves a note. Marks live beside the run's results in `review.json` (the results themselves are
 * never edited) and export as corrected gold JSONL and as preference pairs in TRL's
 * prompt/chosen/rejected fields, the human grade chosen over each variant's different answer.
 */
export const REVIEW_FILE = 'review.json';

export const Mark = z
  .object({
    /** the grade the pair should have; absent when the mark is only a note */
    label: z.string().min(1).optional(),
    note: z.string().max(5000).optional(),
    updated: z.iso.datetime(),
  })
  .strict();
export type Mark = z.infer<typeof Mark>;

export const ReviewFile = z.object({ version: z.literal(1), marks: z.record(z.string(), Mark) }).strict();
export type ReviewFile = z.infer<typeof ReviewFile>;

export function readReview(runDir: string): ReviewFile {
  const file = join(runDir, REVIEW_FILE);
  if (!existsSync(file)) return { version: 1, marks: {} };
  const parsed = ReviewFile.safeParse(parseJsonText(readFileSync(file, 'utf8'), file));
  if (!parsed.success) throw inputError(file, undefined, `${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** Sets (or with `null` removes) the mark on one pair; the grade must be the run's and the pair in it. */
export function setMark(runDir: string, pairId: string, mark: { label?: string; note?: string } | null, now = new Date()): ReviewFile {
  if (!runPairs(runDir).some((p) => p.pair_id === pairId)) throw new UserError(`pair ${pairId} is not in ${runDir}`);
  const labels = runInfo(runDir).labels;
  if (mark?.label !== undefined && !labels.includes(mark.label)) throw new UserError(`grade "${mark.label}" is not one of ${labels.join(', ')}`);
  const review = readReview(runDir);
  if (mark === null || (mark.label === undefined && !mark.note)) delete review.marks[pairId];
  else review.marks[pairId] = Mark.parse({ ...mark, updated: now.toISOString() });
  writeFileAtomic(join(runDir, REVIEW_FILE), JSON.stringify(review, null, 2) + '\n');
  return review;
}

export interface ReviewExport {
  correctedGold: string;
  preferences: string;
  corrected: number;
  pairs: number;
}

/**
 * Writes `review/corrected-gold.jsonl` (the run's pairs, human grades in place of gold) and
 * `review/dpo-pairs.jsonl` (for every human grade, one pair per variant that answered otherwise).
 */
export function exportReview(runDir: string): ReviewExport {
  const review = readReview(runDir);
  const pairs = runPairs(runDir);
  const template = loadTemplate('label');
  let corrected = 0;
  const gold = pairs.map((p) => {
    const m = review.marks[p.pair_id];
    if (m?.label === undefined || m.label === p.label) return p;
    corrected++;
    return { ...p, label: m.label };
  });
  const answers = new Map<string, { variant: string; label: string | null }[]>();
  for (const p of runPredictions(runDir)) answers.set(p.pair_id, [...(answers.get(p.pair_id) ?? []), p]);
  const prefs: string[] = [];
  for (const p of pairs) {
    const human = review.marks[p.pair_id]?.label;
    if (human === undefined) continue;
    const rejected = new Set((answers.get(p.pair_id) ?? []).map((a) => a.label).filter((l): l is string => l !== null && l !== human));
    for (const r of rejected) {
      prefs.push(JSON.stringify({ prompt: renderPrompt(template, p), chosen: renderCompletion(template, human), rejected: renderCompletion(template, r), pair_id: p.pair_id }));
    }
  }
  const dir = join(runDir, 'review');
  const correctedGold = join(dir, 'corrected-gold.jsonl');
  const preferences = join(dir, 'dpo-pairs.jsonl');
  writeFileAtomic(correctedGold, gold.map((g) => JSON.stringify(g)).join('\n') + '\n');
  writeFileAtomic(preferences, prefs.join('\n') + (prefs.length ? '\n' : ''));
  return { correctedGold, preferences, corrected, pairs: prefs.length };
}
