import type { ContextBridgeLike, IpcRendererLike } from './electron-api.ts';
import { exposeApi } from './preload.ts';

// Bundled by build.mjs to one CommonJS file, dist/electron/preload.cjs: a sandboxed preload may
// require only 'electron' (and a few polyfilled modules), never other files.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the only module a sandboxed preload can load
const { contextBridge, ipcRenderer } = require('electron') as { contextBridge: ContextBridgeLike; ipcRenderer: IpcRendererLike };
exposeApi(contextBridge, ipcRenderer);
