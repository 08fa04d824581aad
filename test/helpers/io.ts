import type { CliIO } from '../../core/cli/command.ts';

/** A CliIO that keeps what a command prints, for in-process CLI tests (raw stderr writes, e.g. `run --log-output`, land in stderr). */
export function bufferIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), errRaw: (t) => stderr.push(t), isTTY: false };
}
