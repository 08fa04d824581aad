/**
 * The slice of Electron's API the main process and preload use, typed structurally. The `electron`
 * package is an optional dependency (its binary cannot download offline), so nothing here imports
 * it: the entries `require('electron')` at run time and unit tests pass fakes of these shapes.
 * Each member matches the real API's signature for the arguments we use.
 */

export interface WebFrameLike {
  url: string;
  processId: number;
  routingId: number;
  /** null for a window's main frame */
  parent: WebFrameLike | null;
}

export interface PreventableEvent {
  preventDefault(): void;
}

export interface IpcMainInvokeEventLike {
  /** null when the frame navigated away or was destroyed before the message was handled */
  senderFrame: WebFrameLike | null;
}

export interface WebContentsLike {
  mainFrame: WebFrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  once(event: 'did-finish-load', listener: () => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
  executeJavaScript(code: string): Promise<unknown>;
}

export interface WebPreferencesLike {
  preload: string;
  contextIsolation: boolean;
  sandbox: boolean;
  nodeIntegration: boolean;
  nodeIntegrationInWorker: boolean;
  nodeIntegrationInSubFrames: boolean;
  webSecurity: boolean;
  allowRunningInsecureContent: boolean;
  webviewTag: boolean;
}

export interface BrowserWindowOptionsLike {
  width: number;
  height: number;
  show?: boolean;
  title?: string;
  webPreferences: WebPreferencesLike;
}

export interface BrowserWindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  isDestroyed(): boolean;
  on(event: 'closed', listener: () => void): unknown;
}

export type PermissionRequestHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;

export interface SessionLike {
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void;
  setPermissionCheckHandler(handler: ((contents: unknown, permission: string) => boolean) | null): void;
}

export interface SchemePrivilegesLike {
  scheme: string;
  privileges: { standard?: boolean; secure?: boolean; supportFetchAPI?: boolean; corsEnabled?: boolean; stream?: boolean };
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: SchemePrivilegesLike[]): void;
  handle(scheme: string, handler: (request: { url: string; method?: string }) => Response | Promise<Response>): void;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface AppLike {
  whenReady(): Promise<void>;
  enableSandbox(): void;
  on(event: 'window-all-closed', listener: () => void): unknown;
  quit(): void;
  exit(code?: number): void;
}

export interface ElectronLike {
  app: AppLike;
  BrowserWindow: new (options: BrowserWindowOptionsLike) => BrowserWindowLike;
  ipcMain: IpcMainLike;
  session: { defaultSession: SessionLike };
  protocol: ProtocolLike;
  shell: { openExternal(url: string): Promise<void> };
}

/** What the preload uses: the isolated-world bridge and the renderer side of IPC. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(key: string, api: unknown): void;
}
