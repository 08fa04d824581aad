import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.ts';
import type { CliIO, Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';

export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    errRaw: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** Finds the command named by the first one or two words of argv. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  const two = argv.slice(0, 2).join(' ');
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { cmd: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { cmd: byOne, rest: argv.slice(1) } : undefined;
}

export function globalHelp(): string {
  const lines = ['lref — the LREF Workbench command line', '', 'Usage: lref <command> [options]   (lref <command> --help for details)', '', 'Commands:'];
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', 'Examples:');
  for (const c of COMMANDS) for (const e of c.examples.slice(0, 1)) lines.push(`  ${e}`);
  return lines.join('\n');
}

export function commandHelp(c: Command): string {
  const lines = [`lref ${c.usage}`, '', c.summary, ''];
  const opts = Object.entries(c.options);
  if (opts.length) {
    lines.push('Options:');
    for (const [name, o] of opts) {
      const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}${o.short ? `, -${o.short}` : ''}`;
      lines.push(`  ${flag.padEnd(24)} ${c.optionHelp[name] ?? ''}`);
    }
    lines.push('');
  }
  if (c.examples.length) lines.push('Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. Never calls process.exit, so tests can call it. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(globalHelp());
    return argv.length === 0 ? 1 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.err(`lref: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${globalHelp()}`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UserError(`${(e as Error).message}\n\nUsage: lref ${cmd.usage}`);
    }
    return await cmd.run(parsed as never, io);
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`lref ${cmd.name}: error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`lref ${cmd.name}: internal error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
