import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppService } from '../core/app/service.ts';
import { fixtureDir } from '../test/helpers/fixtures.ts';
import type { IpcMainInvokeEventLike, WebFrameLike } from './electron-api.ts';
import { fakeElectron } from './fake-electron.ts';
import { APP_URL, CALL_CHANNEL, EVENT_CHANNEL, isAppFrame, runMain, type ServiceLike } from './main.ts';

type Window = ReturnType<typeof fakeElectron>['rec']['windows'][number];

const disposables: (() => unknown)[] = [];
afterEach(async () => {
  for (const d of disposables.splice(0)) await d();
});

function fakeService(): ServiceLike & { requests: unknown[]; emit: (e: unknown) => void } {
  const listeners = new Set<(e: unknown) => void>();
  const requests: unknown[] = [];
  return {
    requests,
    handleRequest: async (raw) => (requests.push(raw), { id: (raw as { id: number }).id, ok: true, result: { echoed: true } }),
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    emit: (e) => listeners.forEach((l) => l(e)),
    dispose: vi.fn(),
  };
}

async function start(service: ServiceLike = fakeService()) {
  const { electron, rec } = fakeElectron();
  const renderer = fixtureDir('renderer');
  renderer.file('index.html', '<!doctype html><script type="module" src="./app.js"></script>');
  mkdirSync(join(renderer.dir, 'assets'));
  renderer.file('assets/app.js', 'console.log(1)');
  const outside = fixtureDir('outside');
  outside.file('secret.txt', 'no');
  const win = (await runMain(electron, { rendererDir: renderer.dir, preload: '/app/dist/electron/preload.cjs', startService: () => service })) as unknown as Window;
  return { rec, win, service, outsideName: outside.dir.split('/').pop()! };
}

const event = (frame: WebFrameLike | null): IpcMainInvokeEventLike => ({ senderFrame: frame });
const frameOf = (win: Window, patch: Partial<WebFrameLike> = {}): WebFrameLike => ({ ...win.webContents.mainFrame, ...patch });

describe('the window and session (Electron security checklist)', () => {
  it('isolates and sandboxes the renderer, without Node, with our preload and page', async () => {
    const { rec, win } = await start();
    expect(win.options.webPreferences).toEqual({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(rec.sandboxEnabled).toBe(true);
    expect(win.loaded).toBe(APP_URL);
    // privileges must be registered before `ready`, or Electron ignores them
    expect(rec.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(rec.readyBeforeSchemes).toBe(false);
  });

  it('denies every permission request and check', async () => {
    const { rec } = await start();
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const cb = vi.fn();
      rec.permissionRequest!({}, permission, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(rec.permissionCheck!({}, permission)).toBe(false);
    }
  });

  it('refuses navigation away and new windows; http(s) links go to the system browser, other schemes nowhere', async () => {
    const { rec, win } = await start();
    const navigate = win.listeners.get('will-navigate') as unknown as (e: { preventDefault(): void }, url: string) => void;
    const redirect = win.listeners.get('will-redirect') as unknown as typeof navigate;
    for (const [handler, url] of [
      [navigate, 'https://evil.example/'],
      [navigate, 'file:///etc/passwd'],
      [redirect, 'http://127.0.0.1:8888/'],
    ] as const) {
      const e = { preventDefault: vi.fn() };
      handler(e, url);
      expect(e.preventDefault).toHaveBeenCalled();
    }
    const own = { preventDefault: vi.fn() };
    navigate(own, 'app://bundle/index.html');
    expect(own.preventDefault).not.toHaveBeenCalled();

    expect(win.openHandler!({ url: 'https://arxiv.org/abs/1' })).toEqual({ action: 'deny' });
    expect(win.openHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(win.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(rec.opened).toEqual(['https://evil.example/', 'http://127.0.0.1:8888/', 'https://arxiv.org/abs/1']);

    const webview = { preventDefault: vi.fn() };
    (win.listeners.get('will-attach-webview') as unknown as (e: typeof webview) => void)(webview);
    expect(webview.preventDefault).toHaveBeenCalled();
  });

  it('serves the built renderer with the CSP header and nothing outside it', async () => {
    const { rec, outsideName } = await start();
    const handler = rec.protocolHandlers.get('app')!;
    const page = await handler({ url: 'app://bundle/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const js = await handler({ url: 'app://bundle/assets/app.js' });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
    expect((await handler({ url: 'app://bundle/' })).status).toBe(200);
    expect((await handler({ url: 'app://bundle/missing.js' })).status).toBe(404);
    expect((await handler({ url: `app://bundle/..%2F${outsideName}%2Fsecret.txt` })).status).toBe(403);
    expect((await handler({ url: 'app://other/index.html' })).status).toBe(403);
    expect((await handler({ url: 'app://bundle/%E0%A4%A' })).status).toBe(400);
  });
});

describe('IPC wiring', () => {
  it('passes a request from our window to the service and returns its response', async () => {
    const { rec, win, service } = await start();
    const handler = rec.ipcHandlers.get(CALL_CHANNEL)!;
    const request = { id: 3, op: 'app.info', params: {} };
    await expect(handler(event(frameOf(win)), request)).resolves.toEqual({ id: 3, ok: true, result: { echoed: true } });
    expect((service as ReturnType<typeof fakeService>).requests).toEqual([request]);
  });

  it('refuses foreign senders before the service sees them', async () => {
    const { rec, win, service } = await start();
    const handler = rec.ipcHandlers.get(CALL_CHANNEL)!;
    const request = { id: 1, op: 'workspace.tree', params: {} };
    const foreign: (WebFrameLike | null)[] = [
      null, // the frame is gone
      frameOf(win, { parent: win.webContents.mainFrame }), // an iframe inside our page
      frameOf(win, { routingId: 99 }), // another frame/window
      frameOf(win, { processId: 8 }),
      frameOf(win, { url: 'https://evil.example/' }), // our frame after navigating away
      frameOf(win, { url: 'file:///app/dist/renderer/index.html' }),
    ];
    for (const frame of foreign) await expect(handler(event(frame), request)).rejects.toThrow(/refused/);
    win.destroyed = true;
    await expect(handler(event(frameOf(win)), request)).rejects.toThrow(/refused/);
    expect((service as ReturnType<typeof fakeService>).requests).toEqual([]);
  });

  it('with the real AppService: a malformed request gets bad_request, a good one its result', async () => {
    const ws = fixtureDir('ws');
    const service = new AppService({ workspace: ws.dir, shell: 'electron' });
    disposables.push(() => service.dispose());
    const { rec, win } = await start(service);
    const handler = rec.ipcHandlers.get(CALL_CHANNEL)!;
    const bad = (await handler(event(frameOf(win)), { id: 4, op: 'no.such.op', params: {} })) as { ok: boolean; error: { code: string } };
    expect(bad).toMatchObject({ id: 4, ok: false, error: { code: 'bad_request' } });
    const badParams = await handler(event(frameOf(win)), { id: 5, op: 'notebook.open', params: { path: 7 } });
    expect(badParams).toMatchObject({ id: 5, ok: false, error: { code: 'bad_request' } });
    const info = await handler(event(frameOf(win)), { id: 6, op: 'app.info', params: {} });
    expect(info).toMatchObject({ id: 6, ok: true, result: { shell: 'electron', contractVersion: 1 } });
  });

  it('forwards core events to the window, and stops when it closes', async () => {
    const service = fakeService();
    const { rec, win } = await start(service);
    service.emit({ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c1' });
    expect(win.sent).toEqual([[EVENT_CHANNEL, [{ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c1' }]]]);
    win.destroyed = true;
    service.emit({ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c2' });
    expect(win.sent).toHaveLength(1);
    rec.appListeners.get('window-all-closed')!();
    await new Promise((r) => setTimeout(r, 0));
    expect(rec.ipcHandlers.has(CALL_CHANNEL)).toBe(false);
    expect(service.dispose).toHaveBeenCalled();
    expect(rec.quit).toBe(1);
  });
});

describe('isAppFrame', () => {
  it('needs a window', () => {
    expect(isAppFrame({ url: APP_URL, processId: 1, routingId: 1, parent: null }, undefined)).toBe(false);
  });
});
