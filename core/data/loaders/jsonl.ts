import type { z } from 'zod';
import { decodeChunks } from '../csv.ts';
import { PairRecord } from '../schema.ts';
import { inputError } from '../../util/errors.ts';

/** One parsed JSON value per non-blank line, with its 1-based line number; streamed. */
export async function* readJsonLines(file: string): AsyncGenerator<{ value: unknown; line: number }> {
  let rest = '';
  let line = 0;
  const parse = (text: string) => {
    line++;
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (t.trim() === '') return undefined;
    try {
      return { value: JSON.parse(t) as unknown, line };
    } catch (e) {
      throw inputError(file, line, `invalid JSON: ${(e as Error).message}`);
    }
  };
  for await (const chunk of decodeChunks(file)) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) {
      const v = parse(p);
      if (v) yield v;
    }
  }
  const last = parse(rest);
  if (last) yield last;
}

/** "field a.b: message" for the first zod issue (one precise complaint beats a wall of them). */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  const where = path ? `field ${path}` : 'record';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return `${where}: ${issue.message}${more}`;
}

/** The canonical format: one PairRecord (schema.ts) per line, each validated. */
export async function* readJsonlPairs(file: string): AsyncGenerator<PairRecord> {
  for await (const { value, line } of readJsonLines(file)) {
    const parsed = PairRecord.safeParse(value);
    if (!parsed.success) throw inputError(file, line, describeIssue(parsed.error));
    yield parsed.data;
  }
}
