import type {
  BrowserWindowLike,
  BrowserWindowOptionsLike,
  ElectronLike,
  IpcMainInvokeEventLike,
  PermissionRequestHandler,
  SchemePrivilegesLike,
  WebFrameLike,
} from './electron-api.ts';

/** A recording stand-in for Electron's main-process API, for main.test.ts. */
export function fakeElectron() {
  const rec = {
    windows: [] as FakeWindow[],
    schemes: [] as SchemePrivilegesLike[],
    protocolHandlers: new Map<string, (r: { url: string }) => Response | Promise<Response>>(),
    ipcHandlers: new Map<string, (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown>(),
    permissionRequest: null as PermissionRequestHandler | null,
    permissionCheck: null as ((c: unknown, p: string) => boolean) | null,
    opened: [] as string[],
    sandboxEnabled: false,
    readyBeforeSchemes: false,
    ready: false,
    appListeners: new Map<string, () => void>(),
    quit: 0,
  };
  class FakeWindow implements BrowserWindowLike {
    readonly listeners = new Map<string, (...a: never[]) => unknown>();
    readonly sent: [string, unknown[]][] = [];
    openHandler: ((d: { url: string }) => { action: 'deny' } | { action: 'allow' }) | undefined;
    loaded: string | undefined;
    destroyed = false;
    readonly webContents;
    constructor(readonly options: BrowserWindowOptionsLike) {
      const mainFrame: WebFrameLike = { url: 'app://bundle/index.html', processId: 7, routingId: 1, parent: null };
      this.webContents = {
        mainFrame,
        isDestroyed: () => this.destroyed,
        send: (channel: string, ...args: unknown[]) => void this.sent.push([channel, args]),
        on: (event: string, l: (...a: never[]) => unknown) => this.listeners.set(event, l),
        once: (event: string, l: (...a: never[]) => unknown) => this.listeners.set(event, l),
        setWindowOpenHandler: (h: FakeWindow['openHandler']) => (this.openHandler = h),
        executeJavaScript: () => Promise.resolve(undefined),
      };
      rec.windows.push(this);
    }
    loadURL(url: string) {
      this.loaded = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return this.destroyed;
    }
    on(event: string, l: () => void) {
      this.listeners.set(event, l);
      return this;
    }
  }
  const electron: ElectronLike = {
    app: {
      whenReady: async () => void (rec.ready = true),
      enableSandbox: () => void (rec.sandboxEnabled = true),
      on: (event, l) => rec.appListeners.set(event, l),
      quit: () => void rec.quit++,
      exit: () => undefined,
    },
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (channel, l) => void rec.ipcHandlers.set(channel, l),
      removeHandler: (channel) => void rec.ipcHandlers.delete(channel),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h) => void (rec.permissionRequest = h),
        setPermissionCheckHandler: (h) => void (rec.permissionCheck = h),
      },
    },
    protocol: {
      registerSchemesAsPrivileged: (s) => {
        rec.readyBeforeSchemes = rec.ready;
        rec.schemes.push(...s);
      },
      handle: (scheme, h) => void rec.protocolHandlers.set(scheme, h),
    },
    shell: { openExternal: async (url) => void rec.opened.push(url) },
  };
  return { electron, rec };
}
