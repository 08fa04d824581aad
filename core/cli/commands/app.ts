import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeBackend } from '../../app/backend-info.ts';
import { buildRenderer, CHECKOUT, EDITOR_TYPES_FILE, RENDERER_DIST, rendererBuildNeeded } from '../../app/renderer-build.ts';
import { startBrowserServer } from '../../app/server.ts';
import { AppService } from '../../app/service.ts';
import { editorTypes } from '../../app/editor-types.ts';
import { UserError } from '../../util/errors.ts';
import type { CliIO, Command, ParsedArgs } from '../command.ts';
import { optInt, optString } from '../args.ts';

/**
 * `lref app` (= `npm start`): the workbench UI on a workspace folder. Electron where its binary is
 * installed; otherwise browser mode, where core serves the UI on 127.0.0.1 and prints the URL
 * with its launch token, as Jupyter does.
 */
export const appCommand: Command = {
  name: 'app',
  summary: 'Open the workbench: notebooks in Electron, or in your browser (browser mode) where Electron is not installed',
  usage: 'app [--workspace DIR] [--shell auto|electron|browser] [--port N] [--no-browser]',
  examples: ['lref app', 'lref app --workspace ~/relevance --port 8890', 'lref app --shell browser --no-browser'],
  options: {
    workspace: { type: 'string' },
    shell: { type: 'string' },
    port: { type: 'string' },
    'no-browser': { type: 'boolean' },
  },
  optionHelp: {
    workspace: 'the folder of notebooks and run folders the app may open (default: this checkout)',
    shell: 'auto (default: Electron if installed, else browser), electron, or browser',
    port: 'browser mode: the port on 127.0.0.1 (default: a free one)',
    'no-browser': 'browser mode: do not open a browser, only print the URL',
  },
  async run(args, io) {
    const workspace = resolve(optString(args, 'workspace') ?? CHECKOUT);
    if (!existsSync(workspace) || !statSync(workspace).isDirectory()) throw new UserError(`--workspace ${workspace}: not a folder`);
    mkdirSync(join(workspace, 'runs'), { recursive: true });
    const shell = optString(args, 'shell') ?? 'auto';
    if (!['auto', 'electron', 'browser'].includes(shell)) throw new UserError(`--shell ${shell}: expected auto, electron or browser`);

    const why = rendererBuildNeeded();
    if (why) {
      io.err(`Building the app's UI (${why}; about 30 s)…`);
      buildRenderer();
    }
    io.out(`TF.js backend: ${describeBackend()}`);

    if (shell !== 'browser') {
      const why = await tryElectron(workspace, io);
      if (typeof why === 'number') return why;
      if (shell === 'electron') throw new UserError(`--shell electron: ${why}`);
      io.out(`Shell: browser mode (${why})`);
    } else io.out('Shell: browser mode (--shell browser)');
    return runBrowser(args, workspace, io);
  },
};

async function runBrowser(args: ParsedArgs, workspace: string, io: CliIO): Promise<number> {
  const service = new AppService({ workspace, shell: 'browser' });
  // Warm the editor's declarations now so the first cell's completion does not wait for them.
  setImmediate(() => editorTypes(EDITOR_TYPES_FILE));
  const port = args.values.port !== undefined ? optInt(args, 'port', 0, 1) : undefined;
  const server = await startBrowserServer({ service, staticDir: RENDERER_DIST, port });
  io.out(`Workspace: ${workspace}`);
  io.out(`LREF Workbench is running at ${server.url}`);
  if (!args.values['no-browser'] && hasDisplay()) openBrowser(server.url);
  else io.out('Open that URL in a browser (it carries this launch\'s token). Ctrl+C stops the server and its kernels.');
  await new Promise<void>((done) => {
    const stop = () => {
      io.out('Stopping: shutting down kernels…');
      void service.dispose().then(() => server.close()).then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** The Electron launcher lives in electron/ (core never imports it); loaded by path when present. */
interface ElectronLauncher {
  launchElectron(opts: { workspace: string; io: { out(l: string): void; err(l: string): void } }): Promise<
    { launched: true; binary: string; exited: Promise<number> } | { launched: false; reason: string }
  >;
}

/** Electron's exit code once its window closes, or why Electron cannot run here. */
async function tryElectron(workspace: string, io: CliIO): Promise<number | string> {
  const file = join(CHECKOUT, 'electron', 'launch.ts');
  if (!existsSync(file)) return 'the Electron launcher is not in this checkout';
  const l = (await import(pathToFileURL(file).href)) as ElectronLauncher;
  const r = await l.launchElectron({ workspace, io });
  if (!r.launched) return r.reason;
  io.out(`Shell: Electron (${r.binary})`);
  return r.exited;
}

function hasDisplay(): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    spawn(cmd, [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
  } catch {
    // The URL is printed; opening a browser is a convenience.
  }
}
