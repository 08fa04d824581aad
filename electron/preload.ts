import type { PreloadApi } from '../renderer/src/transport/transport.ts';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.ts';
import type { ContextBridgeLike, IpcRendererLike } from './electron-api.ts';

/**
 * What the sandboxed preload gives the page: one object, `window.lref`, with two functions. The page
 * never sees ipcRenderer or an IPC event (whose `sender` would be ipcRenderer itself), so it can
 * only send contract requests on the one channel main checks.
 */
export const API_KEY = 'lref';

export function preloadApi(ipc: IpcRendererLike): PreloadApi {
  return {
    call: (request) => ipc.invoke(CALL_CHANNEL, request),
    onEvent(listener) {
      const forward = (_event: unknown, payload: unknown) => listener(payload);
      ipc.on(EVENT_CHANNEL, forward);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, forward);
      };
    },
  };
}

export function exposeApi(bridge: ContextBridgeLike, ipc: IpcRendererLike): void {
  bridge.exposeInMainWorld(API_KEY, preloadApi(ipc));
}
