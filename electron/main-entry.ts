import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ElectronLike } from './electron-api.ts';
import { startHost } from './host-client.ts';
import { runMain } from './main.ts';

/**
 * The real main process: bundled by build.mjs to dist/electron/main.cjs and started by launch.ts as
 * `electron dist/electron/main.cjs --workspace DIR [--smoke]`. Everything testable is in main.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the optional package is absent where this typechecks; Electron provides it at run time
const electron = require('electron') as ElectronLike;

const root = resolve(__dirname, '..', '..'); // dist/electron → the checkout
const { values } = parseArgs({ args: process.argv.slice(2), options: { workspace: { type: 'string' }, smoke: { type: 'boolean' } }, strict: false });
const workspace = resolve(typeof values.workspace === 'string' ? values.workspace : process.cwd());

runMain(electron, {
  rendererDir: join(root, 'dist', 'renderer'),
  preload: join(__dirname, 'preload.cjs'),
  startService: () =>
    startHost({
      hostScript: join(root, 'electron', 'host-main.ts'),
      tsxLoader: pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href,
      workspace,
      nodePath: process.env.LREF_NODE || undefined,
    }),
  smoke: values.smoke ? { print: (line) => process.stdout.write(`${line}\n`), timeoutMs: 60_000 } : undefined,
}).catch((e: unknown) => {
  process.stderr.write(`lref: the Electron main process failed to start: ${(e as Error)?.stack ?? String(e)}\n`);
  electron.app.exit(1);
});
