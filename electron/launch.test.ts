import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../test/helpers/fixtures.ts';
import { buildElectron } from './build.mjs';
import { findElectronBinary, launchElectron, ROOT, type LaunchOptions } from './launch.ts';

const notFound = () => {
  throw Object.assign(new Error("Cannot find module 'electron'"), { code: 'MODULE_NOT_FOUND' });
};

describe('findElectronBinary', () => {
  it('says why there is no binary, or where it is', () => {
    expect(findElectronBinary(ROOT, notFound)).toEqual({ missing: expect.stringMatching(/^Electron binary missing: the optional electron package is not installed/) });
    const noDownload = findElectronBinary(ROOT, () => {
      throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');
    });
    expect(noDownload).toEqual({ missing: expect.stringMatching(/^Electron binary missing: .*never downloaded.*failed to install correctly/) });
    expect(findElectronBinary(ROOT, () => '/nowhere/electron')).toEqual({ missing: expect.stringContaining('/nowhere/electron does not exist') });
    expect(findElectronBinary(ROOT, () => process.execPath)).toEqual({ path: process.execPath });
  });
});

function fakeChild() {
  const child = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough(), pid: 4242 });
  return child as unknown as ChildProcess & { stdout: PassThrough; stderr: PassThrough };
}

function launchOptions(patch: Partial<LaunchOptions> = {}) {
  const root = fixtureDir('root');
  const lines: string[] = [];
  const calls: { command: string; args: string[]; env: NodeJS.ProcessEnv }[] = [];
  const child = fakeChild();
  const opts: LaunchOptions = {
    workspace: '/w',
    root: root.dir,
    io: { out: (l) => lines.push(`out ${l}`), err: (l) => lines.push(`err ${l}`) },
    env: { DISPLAY: ':0', ELECTRON_RUN_AS_NODE: '1', HOME: '/home/u' },
    binary: { path: '/bin/electron' },
    buildFn: async (r) => ({ main: join(r, 'dist', 'electron', 'main.cjs') }),
    spawnFn: (command, args, options) => (calls.push({ command, args, env: options.env! }), child),
    ...patch,
  };
  return { root, opts, lines, calls, child };
}

function builtRenderer(root: string): void {
  mkdirSync(join(root, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(root, 'dist', 'renderer', 'index.html'), '');
}

describe('launchElectron', () => {
  it('starts nothing and says why when Electron cannot run here', async () => {
    const a = launchOptions({ binary: { missing: 'Electron binary missing: because' } });
    expect(await launchElectron(a.opts)).toEqual({ launched: false, reason: 'Electron binary missing: because' });
    const b = launchOptions();
    expect(await launchElectron(b.opts)).toEqual({ launched: false, reason: expect.stringContaining('the renderer is not built') });
    if (process.platform === 'linux') {
      const c = launchOptions({ env: {} });
      builtRenderer(c.root.dir);
      expect(await launchElectron(c.opts)).toEqual({ launched: false, reason: expect.stringContaining('no display') });
      expect(c.calls).toEqual([]);
    }
    expect([...a.calls, ...b.calls]).toEqual([]);
  });

  it('spawns the binary on the built main with the workspace, our Node for core, and its output forwarded', async () => {
    const l = launchOptions();
    builtRenderer(l.root.dir);
    const result = await launchElectron(l.opts);
    expect(result).toMatchObject({ launched: true, binary: '/bin/electron', pid: 4242 });
    expect(l.calls).toHaveLength(1);
    expect(l.calls[0].command).toBe('/bin/electron');
    expect(l.calls[0].args).toEqual([join(l.root.dir, 'dist', 'electron', 'main.cjs'), '--workspace', '/w']);
    expect(l.calls[0].env.LREF_NODE).toBe(process.execPath);
    expect(l.calls[0].env.ELECTRON_RUN_AS_NODE).toBeUndefined();
    expect(l.calls[0].env.HOME).toBe('/home/u');
    l.child.stdout.write('hello\n');
    l.child.stderr.write('warn\n');
    await new Promise((r) => setTimeout(r, 10));
    l.child.emit('exit', 3, null);
    expect(await (result as { exited: Promise<number> }).exited).toBe(3);
    expect(l.lines).toEqual(['out hello', 'err warn']);
  });
});

describe('build.mjs', () => {
  it('bundles a preload that requires nothing but electron, and a main without import.meta', async () => {
    const { main, preload } = await buildElectron(ROOT);
    const requires = (file: string) => [...readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(new Set(requires(preload))).toEqual(new Set(['electron']));
    expect(requires(main)).toContain('electron');
    expect(readFileSync(main, 'utf8')).not.toMatch(/import\.meta/);
  });
});

// The real thing, where it can run: a window, the preload, IPC, main, the core host process.
const binary = findElectronBinary();
const renderer = existsSync(join(ROOT, 'dist', 'renderer', 'index.html'));
const display = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const skipWhy = 'missing' in binary ? binary.missing : !renderer ? 'dist/renderer is not built (the UI build)' : !display ? 'no display (DISPLAY/WAYLAND_DISPLAY unset)' : '';
if (skipWhy) console.log(`electron launch test skipped: ${skipWhy}`);

describe('Electron launch', () => {
  it.skipIf(Boolean(skipWhy))('opens the app and answers app.info through window.lref', async () => {
    const lines: string[] = [];
    const ws = fixtureDir('launch');
    const result = await launchElectron({ workspace: ws.dir, smoke: true, io: { out: (l) => lines.push(l), err: () => undefined } });
    expect(result.launched).toBe(true);
    if (!result.launched) return;
    expect(await result.exited).toBe(0);
    const smoke = lines.find((l) => l.startsWith('LREF_SMOKE '));
    expect(smoke).toBeDefined();
    const { keys, response } = JSON.parse(smoke!.slice('LREF_SMOKE '.length));
    expect(keys).toEqual(['call', 'onEvent']);
    expect(response).toMatchObject({ id: 1, ok: true, result: { shell: 'electron', workspace: ws.dir } });
  });
});
