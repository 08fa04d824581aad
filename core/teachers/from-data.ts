import { UserError } from '../util/errors.ts';
import type { RationaleRequest, Teacher } from './teacher.ts';

const KIND_NAMES = { ee: 'expert-explaining (EE)', ra: 'rule-adherence (RA)', dr: 'decision-reflection (DR)' } as const;

/**
 * A teacher that only reads: it returns the rationale a pair already carries in
 * `pair.rationales.{ee,ra,dr}` (written by an earlier teacher run, or shipped with the data).
 * It cannot name confusable labels, so it offers no `confusableLabel`.
 * `source` names where the pairs came from so a missing rationale points at the file to fix.
 */
export function fromDataTeacher(source = 'the data'): Teacher {
  return {
    id: 'from-data',
    async rationale(req: RationaleRequest): Promise<string> {
      const text = req.pair.rationales?.[req.kind];
      if (text === undefined || text.trim() === '') {
        throw new UserError(
          `${source}: pair ${req.pair.pair_id}: field rationales.${req.kind} is missing or empty; ` +
            `the from-data teacher needs a ${KIND_NAMES[req.kind]} rationale on every pair it is asked about ` +
            `(add it to the data, or use a generating teacher)`,
        );
      }
      return text;
    },
  };
}
