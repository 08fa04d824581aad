import { Response, type Op, type ParamsOf, type ResultOf } from '../../../core/app/contract.ts';
import type { PreloadApi, Transport } from './transport.ts';
import { CallError, parseEvent, settle } from './wire.ts';

/**
 * Electron: requests go through the preload's `window.lref` (IPC invoke, so each call gets its own
 * reply and ids only label them). Responses and events are validated with the contract exactly as
 * the WebSocket transport does; a failed response rejects with a CallError carrying its code.
 */
export function ipcTransport(api: PreloadApi): Transport {
  let nextId = 1;
  return {
    async call<K extends Op>(op: K, params: ParamsOf<K>): Promise<ResultOf<K>> {
      let raw: unknown;
      try {
        raw = await api.call({ id: nextId++, op, params });
      } catch (e) {
        // main refused the message or the window is closing; core never saw it
        throw new CallError('internal', `${op}: ${(e as Error)?.message ?? String(e)}`);
      }
      const res = Response.safeParse(raw);
      if (!res.success) {
        const issue = res.error.issues[0];
        throw new CallError('internal', `${op}: malformed response from core at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      }
      return settle(op, res.data);
    },
    onEvent(listener) {
      return api.onEvent((raw) => {
        const ev = parseEvent(raw);
        if (ev) listener(ev);
      });
    },
    // IPC lives as long as the window: there is no connection to lose.
    onConnection(listener) {
      listener(true);
      return () => undefined;
    },
  };
}
