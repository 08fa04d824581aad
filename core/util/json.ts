import { inputError } from './errors.ts';

/**
 * JSON.parse with an error that names the file and the line: V8 reports a character position,
 * which is turned into a 1-based line number so a user can find the typo.
 */
export function parseJsonText(text: string, file: string, what = 'invalid JSON'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw inputError(file, line, `${what}: ${msg}`);
  }
}
