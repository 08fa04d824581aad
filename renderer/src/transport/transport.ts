import type { AppEvent, Op, ParamsOf, ResultOf } from '../../../core/app/contract.ts';

/**
 * How the UI reaches core. Two implementations: WebSocket in browser mode (ws.ts) and Electron IPC
 * through the preload's narrow `window.lref` object (ipc.ts). Both validate results and events with
 * the contract's schemas before the UI sees them. Components never use a transport directly: they
 * call the use-case functions in ../usecases.ts.
 */
export interface Transport {
  call<K extends Op>(op: K, params: ParamsOf<K>): Promise<ResultOf<K>>;
  /** every event core sends; returns an unsubscribe function */
  onEvent(listener: (event: AppEvent) => void): () => void;
  /** connection state for the status bar: a lost connection is shown, never hidden */
  onConnection(listener: (connected: boolean) => void): () => void;
}

/** The object Electron's preload exposes as `window.lref` (never raw ipcRenderer). */
export interface PreloadApi {
  /** one request: a wire Request ({id, op, params}) in, a wire Response out */
  call(request: unknown): Promise<unknown>;
  /** registers the event listener; returns an unsubscribe function */
  onEvent(listener: (event: unknown) => void): () => void;
}
