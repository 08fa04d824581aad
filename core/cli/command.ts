import type { ParseArgsConfig } from 'node:util';

/** What a command may print to. Tests pass buffers; the real CLI passes the process streams. */
export interface CliIO {
  out: (text: string) => void; // stdout, one call per line (no trailing newline needed)
  err: (text: string) => void; // stderr
  /** stderr is a terminal: show live progress bars */
  isTTY: boolean;
  /** write raw text to stderr without newline (progress bars redraw with \r) */
  errRaw: (text: string) => void;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** One `lref` command. `name` may have two words ("data synth"). */
export interface Command {
  name: string;
  summary: string;
  /** the usage line after `lref ` */
  usage: string;
  /** worked examples, shown by --help */
  examples: string[];
  options: Options;
  /** option → help text */
  optionHelp: Record<string, string>;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
