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
      const electron = await findElectron();
      if ('path' in electron) return runElectron(electron, workspace, io);
      if (shell === 'electron') throw new UserError(`--shell electron: ${electron.missing}`);
      io.out(`Shell: browser mode (${electron.missing})`);
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
  findElectronBinary(): { path: string } | { missing: string };
  launchElectron(opts: { workspace: string; io: CliIO }): Promise<number>;
}

async function launcher(): Promise<ElectronLauncher | undefined> {
  const file = join(CHECKOUT, 'electron', 'launch.ts');
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as ElectronLauncher;
}

async function findElectron(): Promise<{ path: string } | { missing: string }> {
  const l = await launcher();
  if (!l) return { missing: 'the Electron launcher is not in this checkout' };
  return l.findElectronBinary();
}

async function runElectron(_found: { path: string }, workspace: string, io: CliIO): Promise<number> {
  io.out('Shell: Electron');
  const l = (await launcher())!;
  return l.launchElectron({ workspace, io });
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
