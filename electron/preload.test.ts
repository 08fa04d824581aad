import { describe, expect, it, vi } from 'vitest';
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.ts';
import type { IpcRendererLike } from './electron-api.ts';
import { exposeApi } from './preload.ts';

function fakeIpc() {
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
  const ipc: IpcRendererLike & { invoked: unknown[][] } = {
    invoked: [],
    invoke: async (...args) => (ipc.invoked.push(args), { id: 1, ok: true, result: {} }),
    on: (channel, l) => listeners.set(channel, (listeners.get(channel) ?? new Set()).add(l)),
    removeListener: (channel, l) => listeners.get(channel)?.delete(l),
  };
  const emit = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: ipc }, payload));
  return { ipc, emit, count: (channel: string) => listeners.get(channel)?.size ?? 0 };
}

function exposed() {
  const fake = fakeIpc();
  const bridge = { exposeInMainWorld: vi.fn() };
  exposeApi(bridge, fake.ipc);
  return { ...fake, bridge, api: bridge.exposeInMainWorld.mock.calls[0][1] as Record<string, (...a: unknown[]) => unknown> };
}

describe('preload', () => {
  it('exposes one object, window.lref, with exactly call and onEvent', () => {
    const { bridge, api } = exposed();
    expect(bridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(bridge.exposeInMainWorld.mock.calls[0][0]).toBe('lref');
    expect(Object.keys(api).sort()).toEqual(['call', 'onEvent']);
    for (const v of Object.values(api)) expect(typeof v).toBe('function');
  });

  it('call invokes the one request channel with the request as given', async () => {
    const { api, ipc } = exposed();
    const request = { id: 9, op: 'app.info', params: {} };
    await expect(api.call(request)).resolves.toEqual({ id: 1, ok: true, result: {} });
    expect(ipc.invoked).toEqual([[CALL_CHANNEL, request]]);
  });

  it('onEvent hands the listener the payload only (never the IPC event and its sender), and unsubscribes', () => {
    const { api, emit, count } = exposed();
    const seen: unknown[][] = [];
    const stop = api.onEvent((...args: unknown[]) => seen.push(args)) as () => void;
    emit(EVENT_CHANNEL, { type: 'cell.queued', path: 'a.ipynb', cell_id: 'c' });
    expect(seen).toEqual([[{ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c' }]]);
    stop();
    expect(count(EVENT_CHANNEL)).toBe(0);
    emit(EVENT_CHANNEL, { type: 'cell.queued', path: 'a.ipynb', cell_id: 'd' });
    expect(seen).toHaveLength(1);
  });
});
