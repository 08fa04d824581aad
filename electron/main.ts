import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_TYPES, contentSecurityPolicy } from '../core/app/server.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.ts';
import type {
  BrowserWindowLike,
  ElectronLike,
  IpcMainLike,
  ProtocolLike,
  SessionLike,
  WebContentsLike,
  WebFrameLike,
  WebPreferencesLike,
} from './electron-api.ts';

/**
 * The Electron main process, written against the injected `ElectronLike` slice so it typechecks
 * and is unit-tested without the binary. It follows Electron's security checklist: an isolated,
 * sandboxed renderer without Node, the app served from a privileged `app://` scheme with a CSP
 * header, navigation and new windows refused, every permission denied, and every IPC message
 * checked to come from our window's main frame showing our page. Core (and so the kernels) runs in
 * a plain-Node child process (host-main.ts), never here: see host-client.ts.
 */

export { CALL_CHANNEL, EVENT_CHANNEL };
export const APP_SCHEME = 'app';
export const APP_HOST = 'bundle';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Core's side as main sees it: AppService itself, or the proxy to it in the host process. */
export interface ServiceLike {
  handleRequest(raw: unknown): Promise<unknown>;
  onEvent(listener: (event: unknown) => void): () => void;
  dispose(): Promise<void> | void;
}

export function webPreferences(preload: string): WebPreferencesLike {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
  };
}

export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Only our window's top frame showing our page may call core (not an iframe, not a page it was navigated to). */
export function isAppFrame(frame: WebFrameLike | null | undefined, win: BrowserWindowLike | undefined): boolean {
  if (!frame || !win || win.isDestroyed()) return false;
  const main = win.webContents.mainFrame;
  return frame.parent === null && frame.processId === main.processId && frame.routingId === main.routingId && isAppUrl(frame.url);
}

/** Before `ready`: a standard, secure scheme gets a real origin ('self' in the CSP) and fetch/ES modules. */
export function registerAppScheme(protocol: ProtocolLike): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves the built renderer under app://bundle/ with the same CSP as browser mode; nothing outside `rendererDir`. */
export function rendererHandler(rendererDir: string): (request: { url: string }) => Promise<Response> {
  const root = normalize(rendererDir);
  return async (request) => {
    const url = new URL(request.url);
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return new Response('bad path', { status: 400 });
    }
    if (rel === '/') rel = '/index.html';
    const file = normalize(join(root, rel));
    if (url.host !== APP_HOST || !file.startsWith(root + sep)) return new Response('forbidden', { status: 403 });
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return new Response('not found', { status: 404 });
    }
    return new Response(new Uint8Array(body), {
      headers: {
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': contentSecurityPolicy(),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  };
}

/** The renderer never needs camera, notifications, geolocation, …: refuse every request and check. */
export function denyPermissions(session: SessionLike): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/**
 * The window never leaves our page and opens no other window. A link to an http(s) page (a
 * notebook's markdown citing a paper) opens in the system browser, which is what a user clicking it
 * expects; any other scheme (file:, javascript:, custom handlers) is dropped.
 */
export function lockNavigation(contents: WebContentsLike, openExternal: (url: string) => Promise<void>): void {
  const external = (url: string) => {
    if (/^https?:\/\//i.test(url)) void openExternal(url).catch(() => undefined);
  };
  const guard = (event: { preventDefault(): void }, url: string) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    external(url);
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    external(url);
    return { action: 'deny' };
  });
}

/**
 * The one IPC channel. A message from anywhere but our window's main frame is refused before core
 * sees it; everything else goes to `handleRequest`, which validates it against the contract.
 */
export function registerIpc(ipcMain: IpcMainLike, window: () => BrowserWindowLike | undefined, service: ServiceLike): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, request) => {
    if (!isAppFrame(event.senderFrame, window())) throw new Error(`${CALL_CHANNEL} refused: the sender is not the workbench window's page`);
    return service.handleRequest(request);
  });
  const stopEvents = service.onEvent((e) => {
    const win = window();
    if (win && !win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(EVENT_CHANNEL, e);
  });
  return () => {
    ipcMain.removeHandler(CALL_CHANNEL);
    stopEvents();
  };
}

export interface MainOptions {
  /** dist/renderer: index.html and its assets */
  rendererDir: string;
  /** dist/electron/preload.cjs */
  preload: string;
  /** starts core (called once the app is ready) */
  startService: () => ServiceLike;
  /** launch test: call `app.info` through the preload, print the response and quit */
  smoke?: { print: (line: string) => void; timeoutMs: number };
}

/** Everything main does, in order. Resolves with the window once its page is loading. */
export async function runMain(electron: ElectronLike, opts: MainOptions): Promise<BrowserWindowLike> {
  const { app, protocol } = electron;
  registerAppScheme(protocol);
  app.enableSandbox(); // every renderer sandboxed, whatever a window's options say
  await app.whenReady();
  protocol.handle(APP_SCHEME, rendererHandler(opts.rendererDir));
  denyPermissions(electron.session.defaultSession);

  const service = opts.startService();
  let win: BrowserWindowLike | undefined = new electron.BrowserWindow({
    width: 1400,
    height: 900,
    title: 'LREF Workbench',
    webPreferences: webPreferences(opts.preload),
  });
  lockNavigation(win.webContents, (url) => electron.shell.openExternal(url));
  const stopIpc = registerIpc(electron.ipcMain, () => win, service);
  win.on('closed', () => (win = undefined));
  app.on('window-all-closed', () => {
    stopIpc();
    void Promise.resolve(service.dispose()).finally(() => app.quit());
  });
  if (opts.smoke) smokeTest(win, app, opts.smoke);
  void win.loadURL(APP_URL);
  return win;
}

/** Proves the whole path (page → preload → IPC → main → core → back) on a real binary. */
function smokeTest(win: BrowserWindowLike, app: ElectronLike['app'], smoke: NonNullable<MainOptions['smoke']>): void {
  const timer = setTimeout(() => {
    smoke.print('LREF_SMOKE timeout');
    app.exit(1);
  }, smoke.timeoutMs);
  win.webContents.once('did-finish-load', () => {
    win.webContents
      .executeJavaScript(`window.lref.call({ id: 1, op: 'app.info', params: {} }).then((r) => JSON.stringify({ keys: Object.keys(window.lref).sort(), response: r }))`)
      .then((json) => {
        smoke.print(`LREF_SMOKE ${String(json)}`);
        clearTimeout(timer);
        app.exit(0);
      })
      .catch((e: unknown) => {
        smoke.print(`LREF_SMOKE error ${(e as Error)?.message ?? String(e)}`);
        app.exit(1);
      });
  });
}
