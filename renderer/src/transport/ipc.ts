import { AppEvent, parseResult, Response, type Op, type ParamsOf, type ResultOf } from '../../../core/app/contract.ts';
import type { PreloadApi, Transport } from './transport.ts';
import { CallError } from './ws.ts';

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
      if (!res.data.ok) throw new CallError(res.data.error.code, res.data.error.message);
      return parseResult(op, res.data.result);
    },
    onEvent(listener) {
      return api.onEvent((raw) => {
        const ev = AppEvent.safeParse(raw);
        if (ev.success) listener(ev.data);
        else console.error('lref: malformed event from core', ev.error.issues[0]);
      });
    },
    // IPC lives as long as the window: there is no connection to lose.
    onConnection(listener) {
      listener(true);
      return () => undefined;
    },
  };
}
