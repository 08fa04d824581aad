/**
 * An error the user can fix: bad input, a missing file, a wrong flag. The CLI prints its message
 * alone (no stack) and exits non-zero. Messages name the file, the line and the field where known.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** "file:line: field: problem" — the one shape every input error takes. */
export function inputError(file: string, line: number | undefined, problem: string): UserError {
  return new UserError(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
}
