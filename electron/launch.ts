import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildElectron } from './build.mjs';

/**
 * How `lref app` / `npm start` opens the desktop shell. Runs in plain Node (the CLI) and never
 * imports the electron package's API: `require('electron')` outside Electron returns the path of
 * the downloaded binary, or throws when the download never happened. core/ may not import this
 * folder (lint rule), so the CLI loads it with a dynamic import by path.
 */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type ElectronBinary = { path: string } | { missing: string };

/** Where the Electron binary is, or a sentence saying why there is none. `load` is for tests. */
export function findElectronBinary(root: string = ROOT, load: (id: string) => unknown = createRequire(join(root, 'package.json'))): ElectronBinary {
  let path: unknown;
  try {
    path = load('electron');
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND')
      return { missing: 'Electron binary missing: the optional electron package is not installed (npm drops it when its install script cannot download the binary, e.g. offline)' };
    return {
      missing: `Electron binary missing: the electron package is installed but its binary was never downloaded (offline install, or its install script did not run; online, \`npm rebuild electron\` fetches it): ${(e as Error)?.message ?? e}`,
    };
  }
  if (typeof path !== 'string') return { missing: 'Electron binary missing: the electron package did not report a binary path' };
  if (!existsSync(path)) return { missing: `Electron binary missing: ${path} does not exist (\`npm rebuild electron\` downloads it)` };
  return { path };
}

export interface LaunchIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface LaunchOptions {
  /** the folder whose notebooks and runs the app shows */
  workspace: string;
  /** Electron's own stdout/stderr lines go here */
  io: LaunchIO;
  /** the checkout (holds dist/renderer and node_modules); default: this file's parent folder */
  root?: string;
  env?: NodeJS.ProcessEnv;
  /** launch test: the app calls `app.info` through the preload, prints `LREF_SMOKE {...}` and quits */
  smoke?: boolean;
  /** tests */
  binary?: ElectronBinary;
  buildFn?: (root: string) => Promise<{ main: string }>;
  spawnFn?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

export type LaunchResult =
  | { launched: true; binary: string; pid: number | undefined; /** Electron's exit code once it quits */ exited: Promise<number> }
  | { launched: false; reason: string };

/**
 * Builds dist/electron and starts Electron on it. Resolves `{launched: false, reason}` without
 * starting anything when Electron cannot run here (no binary, renderer not built, no display), so
 * the caller can say why and fall back to browser mode. The renderer is built by the caller.
 */
export async function launchElectron(opts: LaunchOptions): Promise<LaunchResult> {
  const root = opts.root ?? ROOT;
  const env = opts.env ?? process.env;
  const binary = opts.binary ?? findElectronBinary(root);
  if ('missing' in binary) return { launched: false, reason: binary.missing };
  if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) return { launched: false, reason: `the renderer is not built (${join(root, 'dist', 'renderer', 'index.html')} is missing)` };
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { launched: false, reason: 'no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset)' };

  const { main } = await (opts.buildFn ?? buildElectron)(root);
  const childEnv: NodeJS.ProcessEnv = { ...env, LREF_NODE: process.execPath }; // core and kernels run on this Node (see host-client.ts)
  delete childEnv.ELECTRON_RUN_AS_NODE; // set, it would make the binary a plain Node and ignore the window
  const args = [main, '--workspace', resolve(opts.workspace), ...(opts.smoke ? ['--smoke'] : [])];
  const child = (opts.spawnFn ?? spawn)(binary.path, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.stdout) createInterface({ input: child.stdout }).on('line', opts.io.out);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', opts.io.err);
  const exited = new Promise<number>((done) => {
    child.once('error', (e) => {
      opts.io.err(`lref: could not start Electron (${binary.path}): ${e.message}`);
      done(1);
    });
    child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
  return { launched: true, binary: binary.path, pid: child.pid, exited };
}
