import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { optBool, optFloat, optString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { readNotebook, writeNotebook, type Notebook } from '../../kernel/notebook.ts';
import { injectParameters, parseParameter, runNotebook } from '../../kernel/run-notebook.ts';

/** NAME.ipynb → NAME.out.ipynb in the same folder, so the input is never overwritten by default. */
export function defaultOutPath(notebook: string): string {
  const name = basename(notebook).replace(/\.ipynb$/i, '');
  return join(dirname(notebook), `${name}.out.ipynb`);
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Execute a notebook headless (papermill-style) and save it with its outputs',
  usage: 'run NOTEBOOK.ipynb [-p name=value …] [--out EXECUTED.ipynb] [--timeout S] [--json] [--log-output]',
  examples: [
    'lref run notebooks/hello.ipynb',
    'lref run notebooks/hello.ipynb -p n=5 -p name=world --out /tmp/hello.executed.ipynb',
    'lref run notebooks/hello.ipynb --timeout 60 --json',
  ],
  options: {
    param: { type: 'string', short: 'p', multiple: true },
    out: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    'log-output': { type: 'boolean' },
  },
  optionHelp: {
    param: 'name=value for the cell tagged "parameters" (repeatable; JSON when it parses, else a string)',
    out: 'where to write the executed notebook (default: NAME.out.ipynb beside the input)',
    timeout: 'per-cell limit in seconds; a longer cell is stopped and the run fails',
    json: 'print one JSON summary on stdout instead of text',
    'log-output': "echo the cells' stdout/stderr to stderr as they run",
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError(`expected one notebook, got ${args.positionals.length}\n\nUsage: lref ${runCommand.usage}`);
    const input = resolve(args.positionals[0]);
    if (!existsSync(input)) throw new UserError(`${args.positionals[0]}: no such notebook`);
    const out = resolve(optString(args, 'out') ?? defaultOutPath(input));
    if (out === input) throw new UserError(`--out must differ from the input notebook (${args.positionals[0]})`);
    const timeout = args.values.timeout === undefined ? undefined : optFloat(args, 'timeout', 0, 0.001);
    const json = optBool(args, 'json');
    const logOutput = optBool(args, 'log-output');
    const rawParams = (args.values.param as string[] | undefined) ?? [];
    const params = Object.fromEntries(rawParams.map(parseParameter));

    const { notebook, at } = injectParameters(readNotebook(input), params);
    if (rawParams.length && !json) {
      io.err(at === 0 ? `note: no cell is tagged "parameters"; the parameters cell was put first` : `parameters injected as cell ${at}`);
    }
    const started = new Date();
    const withRunInfo = (nb: Notebook, extra: Record<string, unknown>): Notebook => ({
      ...nb,
      metadata: { ...nb.metadata, lref_run: { input: args.positionals[0], parameters: params, started: started.toISOString(), ...extra } },
    });
    // Ctrl+C stops the running cell instead of killing the CLI, so the outputs so far are still saved.
    const ctrlC = new AbortController();
    const onSigint = () => ctrlC.abort();
    process.once('SIGINT', onSigint);
    const result = await runNotebook(notebook, {
      cwd: dirname(input),
      interrupt: ctrlC.signal,
      cellTimeoutS: timeout,
      save: (nb) => writeNotebook(out, withRunInfo(nb, { status: 'running' })),
      onMessage: (_i, msg) => {
        if (logOutput && msg.type === 'stream') io.errRaw(msg.text);
      },
      onCellDone: ({ index, ok, seconds, executed, total }) => {
        if (!json) io.err(`[${executed}/${total}] cell ${index} ${ok ? 'ok' : 'FAILED'} (${seconds.toFixed(2)} s)`);
      },
    }).finally(() => process.off('SIGINT', onSigint));
    const duration = (Date.now() - started.getTime()) / 1000;
    const f = result.failure;
    writeNotebook(
      out,
      withRunInfo(result.notebook, {
        status: result.ok ? 'ok' : 'error',
        duration_s: Number(duration.toFixed(3)),
        ...(f ? { failed_cell: f.index, failed_line: f.line ?? null, exception: `${f.ename}: ${f.evalue}` } : {}),
      }),
    );
    if (json) {
      io.out(
        JSON.stringify({
          ok: result.ok,
          notebook: args.positionals[0],
          out,
          cells_executed: result.executed,
          duration_s: Number(duration.toFixed(3)),
          failure: f ? { cell: f.index, line: f.line ?? null, ename: f.ename, evalue: f.evalue } : null,
        }),
      );
    } else if (f) {
      io.err(`error in cell ${f.index}${f.line !== undefined ? `, line ${f.line}` : ''} of ${args.positionals[0]}: ${f.ename}: ${f.evalue}`);
      for (const t of f.traceback.slice(1)) io.err(t);
      io.err(`outputs so far written to ${out}`);
    } else {
      io.out(`ran ${result.executed} code cells in ${duration.toFixed(2)} s → ${out}`);
    }
    return result.ok ? 0 : 1;
  },
};
