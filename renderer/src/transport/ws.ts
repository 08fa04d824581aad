import { Response, type AppEvent, type Op, type ParamsOf, type ResultOf } from '../../../core/app/contract.ts';
import { CallError, parseEvent, settle } from './wire.ts';

export { CallError };
import type { Transport } from './transport.ts';

/**
 * Browser mode: one WebSocket to core (same origin, authorised by the launch cookie). Requests are
 * matched to responses by id; a dropped connection rejects what is in flight and reconnects.
 */
export function wsTransport(url = defaultUrl()): Transport {
  let ws: WebSocket | undefined;
  let nextId = 1;
  let open: Promise<WebSocket> | undefined;
  const pending = new Map<number, { op: Op; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const eventListeners = new Set<(e: AppEvent) => void>();
  const connListeners = new Set<(c: boolean) => void>();

  const connect = (): Promise<WebSocket> => {
    open ??= new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => {
        ws = socket;
        connListeners.forEach((l) => l(true));
        resolve(socket);
      };
      socket.onerror = () => reject(new CallError('internal', 'cannot reach the workbench server'));
      socket.onclose = () => {
        ws = undefined;
        open = undefined;
        connListeners.forEach((l) => l(false));
        for (const [id, p] of pending) {
          pending.delete(id);
          p.reject(new CallError('internal', 'the connection to the workbench closed'));
        }
        setTimeout(() => void connect().catch(() => undefined), 1000);
      };
      socket.onmessage = (m) => receive(m.data as string);
    });
    return open;
  };

  const receive = (text: string): void => {
    const msg = JSON.parse(text) as { response?: unknown; event?: unknown };
    if (msg.event !== undefined) {
      const ev = parseEvent(msg.event);
      if (ev) eventListeners.forEach((l) => l(ev));
      return;
    }
    const res = Response.safeParse(msg.response);
    if (!res.success) return console.error('lref: malformed response from core', res.error.issues[0]);
    const p = pending.get(res.data.id);
    if (!p) return;
    pending.delete(res.data.id);
    try {
      p.resolve(settle(p.op, res.data));
    } catch (e) {
      p.reject(e as Error);
    }
  };

  void connect().catch(() => undefined);
  return {
    async call<K extends Op>(op: K, params: ParamsOf<K>): Promise<ResultOf<K>> {
      const socket = ws ?? (await connect());
      const id = nextId++;
      return new Promise<ResultOf<K>>((resolve, reject) => {
        pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, op, params }));
      });
    },
    onEvent(l) {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onConnection(l) {
      connListeners.add(l);
      return () => connListeners.delete(l);
    },
  };
}

function defaultUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
}
