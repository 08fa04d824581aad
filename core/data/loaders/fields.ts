import { inputError, type UserError } from '../../util/errors.ts';

/** Where a value came from, so a complaint about it can name file, line and column. */
export interface Cell {
  file: string;
  line: number;
  column: string;
}

export function cellError(at: Cell, problem: string): UserError {
  return inputError(at.file, at.line, `column "${at.column}": ${problem}`);
}

/** A required text value: trimmed, must be non-empty. */
export function text(row: Record<string, string>, column: string, file: string, line: number): string {
  const v = (row[column] ?? '').trim();
  if (v === '') throw cellError({ file, line, column }, 'is empty');
  return v;
}

/** An optional text value: trimmed; empty → undefined. */
export function optText(row: Record<string, string>, column: string): string | undefined {
  const v = (row[column] ?? '').trim();
  return v === '' ? undefined : v;
}

/** A number within [min, max]. */
export function num(row: Record<string, string>, column: string, file: string, line: number, min: number, max: number): number {
  const raw = (row[column] ?? '').trim();
  const v = Number(raw);
  if (raw === '' || !Number.isFinite(v) || v < min || v > max) {
    throw cellError({ file, line, column }, `expected a number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return v;
}
