import { describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../../../core/app/contract.ts';
import { ipcTransport } from './ipc.ts';
import type { PreloadApi } from './transport.ts';

function api(reply: (request: { id: number; op: string; params: unknown }) => unknown): PreloadApi & { sent: unknown[]; emit: (e: unknown) => void } {
  const listeners = new Set<(e: unknown) => void>();
  const sent: unknown[] = [];
  return {
    sent,
    call: async (request) => (sent.push(request), reply(request as { id: number; op: string; params: unknown })),
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    emit: (e) => listeners.forEach((l) => l(e)),
  };
}

const info = { contractVersion: 1, workspace: '/w', shell: 'electron', backendHint: 'auto' };

describe('ipcTransport', () => {
  it('sends {id, op, params} with fresh ids and returns the validated result', async () => {
    const a = api((r) => ({ id: r.id, ok: true, result: info }));
    const t = ipcTransport(a);
    await expect(t.call('app.info', {})).resolves.toEqual(info);
    await t.call('app.info', {});
    expect(a.sent).toEqual([
      { id: 1, op: 'app.info', params: {} },
      { id: 2, op: 'app.info', params: {} },
    ]);
  });

  it('rejects a failed response with its message and code', async () => {
    const t = ipcTransport(api((r) => ({ id: r.id, ok: false, error: { code: 'conflict', message: 'a.ipynb changed on disk' } })));
    const e = await t.call('notebook.stat', { path: 'a.ipynb' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ message: 'a.ipynb changed on disk', code: 'conflict' });
  });

  it('rejects a response that breaks the contract, and a result of the wrong shape', async () => {
    await expect(ipcTransport(api(() => ({ ok: 'yes' }))).call('app.info', {})).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('malformed response') });
    await expect(ipcTransport(api((r) => ({ id: r.id, ok: true, result: { shell: 'tty' } }))).call('app.info', {})).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringContaining('app.info: malformed result'),
    });
  });

  it('turns a refused IPC call into an internal error naming the op', async () => {
    const t = ipcTransport(api(() => Promise.reject(new Error("Error invoking remote method 'lref:call': refused"))));
    await expect(t.call('workspace.tree', {})).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('workspace.tree: ') });
  });

  it('passes valid events on, drops malformed ones, and unsubscribes', () => {
    const a = api(() => undefined);
    const seen: AppEvent[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const stop = ipcTransport(a).onEvent((e) => seen.push(e));
    a.emit({ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c1' });
    a.emit({ type: 'cell.queued', path: 'a.ipynb' });
    a.emit({ type: 'nonsense' });
    stop();
    a.emit({ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c2' });
    expect(seen).toEqual([{ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c1' }]);
    expect(error).toHaveBeenCalledTimes(2);
    error.mockRestore();
  });

  it('reports itself connected at once (IPC has no connection to lose)', () => {
    const seen: boolean[] = [];
    ipcTransport(api(() => undefined)).onConnection((c) => seen.push(c));
    expect(seen).toEqual([true]);
  });
});
