import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../test/helpers/fixtures.ts';
import { buildElectron } from './build.mjs';
import { ROOT } from './launch.ts';

// The bundled main (dist/electron/main.cjs) on plain Node with a stand-in `electron` module: proves
// its paths (preload, host script, tsx) and the core host process without the binary. Where the real
// package is installed it would shadow the stand-in, and launch.test.ts runs the real thing instead.
const FAKE_ELECTRON = `
const handlers = new Map();
class BrowserWindow {
  constructor(options) {
    this.options = options;
    const mainFrame = { url: 'app://bundle/index.html', processId: 1, routingId: 1, parent: null };
    this.webContents = { mainFrame, isDestroyed: () => false, send() {}, on() {}, once() {}, setWindowOpenHandler() {}, executeJavaScript: async () => undefined };
  }
  async loadURL(url) {
    const call = handlers.get('lref:call');
    const response = await call({ senderFrame: this.webContents.mainFrame }, { id: 1, op: 'app.info', params: {} });
    process.stdout.write('RESULT ' + JSON.stringify({ url, preload: this.options.webPreferences.preload, response }) + '\\n');
    process.exit(0);
  }
  isDestroyed() { return false; }
  on() {}
}
module.exports = {
  app: { whenReady: async () => {}, enableSandbox() {}, on() {}, quit() {}, exit: (c) => process.exit(c) },
  BrowserWindow,
  ipcMain: { handle: (c, h) => handlers.set(c, h), removeHandler() {} },
  session: { defaultSession: { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} } },
  protocol: { registerSchemesAsPrivileged() {}, handle() {} },
  shell: { openExternal: async () => {} },
};
`;

describe('dist/electron/main.cjs', () => {
  it.skipIf(existsSync(join(ROOT, 'node_modules', 'electron')))('starts core in its host process and serves a call from the window', async () => {
    const { main, preload } = await buildElectron(ROOT);
    const fake = fixtureDir('fake-electron');
    mkdirSync(join(fake.dir, 'electron'));
    writeFileSync(join(fake.dir, 'electron', 'index.js'), FAKE_ELECTRON);
    const ws = fixtureDir('entry');
    const run = spawnSync(process.execPath, [main, '--workspace', ws.dir], {
      env: { ...process.env, NODE_PATH: fake.dir, LREF_NODE: process.execPath },
      encoding: 'utf8',
      timeout: 90_000,
    });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, run.stderr).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length));
    expect(result.url).toBe('app://bundle/index.html');
    expect(result.preload).toBe(preload);
    expect(result.response).toMatchObject({ id: 1, ok: true, result: { shell: 'electron', workspace: ws.dir, contractVersion: 1 } });
  });
});
