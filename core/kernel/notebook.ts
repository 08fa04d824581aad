import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.ts';
import { inputError } from '../util/errors.ts';
import { parseNotebook, serializeNotebook, type Notebook } from './nbformat.ts';

/** Notebook files: read with file:line errors, written atomically. The format itself is nbformat.ts. */
export * from './nbformat.ts';

export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw inputError(path, undefined, `cannot read notebook: ${(e as Error).message}`);
  }
  return parseNotebook(text, path);
}

/** Writes atomically: readers see the old file or the whole new one. */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileAtomic(path, serializeNotebook(nb));
}

