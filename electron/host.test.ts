import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureDir } from '../test/helpers/fixtures.ts';
import { startHost } from './host-client.ts';
import type { ServiceLike } from './main.ts';

const HOST = fileURLToPath(new URL('./host-main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let host: ServiceLike | undefined;
afterEach(async () => {
  await host?.dispose();
  host = undefined;
});

// The real child process main starts: core for a workspace, on plain Node, over the fork channel.
describe('the core host process', () => {
  it('answers contract requests and sends core events', async () => {
    const ws = fixtureDir('host');
    host = startHost({ hostScript: HOST, tsxLoader: TSX, workspace: ws.dir, nodePath: process.execPath });
    const events: unknown[] = [];
    host.onEvent((e) => events.push(e));
    const [info, created, bad] = await Promise.all([
      host.handleRequest({ id: 1, op: 'app.info', params: {} }),
      host.handleRequest({ id: 2, op: 'notebook.create', params: { path: 'a.ipynb' } }),
      host.handleRequest({ id: 3, op: 'kernel.start' }),
    ]);
    expect(info).toMatchObject({ id: 1, ok: true, result: { shell: 'electron', workspace: ws.dir } });
    expect(created).toEqual({ id: 2, ok: true, result: { path: 'a.ipynb' } });
    expect(bad).toMatchObject({ id: 3, ok: false, error: { code: 'bad_request' } });
    // a cell runs in a kernel forked by the host: its events come back through main's handle
    const run = await host.handleRequest({ id: 4, op: 'cell.execute', params: { path: 'a.ipynb', cells: [{ cell_id: 'c1', code: 'console.log(6 * 7)' }] } });
    expect(run).toEqual({ id: 4, ok: true, result: { queued: ['c1'] } });
    const deadline = Date.now() + 60_000;
    const printed = () => events.some((e) => (e as { message?: { type: string; text?: string } }).message?.text === '42\n');
    while (!printed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(events[0]).toEqual({ type: 'cell.queued', path: 'a.ipynb', cell_id: 'c1' });
    expect(printed()).toBe(true);
  });

  it('answers with an internal error naming the cause once the process is gone', async () => {
    const ws = fixtureDir('host');
    host = startHost({ hostScript: HOST, tsxLoader: TSX, workspace: ws.dir, nodePath: process.execPath });
    await host.dispose();
    const res = await host.handleRequest({ id: 8, op: 'app.info', params: {} });
    expect(res).toMatchObject({ id: 8, ok: false, error: { code: 'internal', message: expect.stringContaining('core process') } });
  });
});
