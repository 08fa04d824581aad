import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newCodeCell, newNotebook, serializeNotebook } from '../kernel/nbformat.ts';
import type { AppEvent } from './contract.ts';
import { startBrowserServer, type BrowserServer } from './server.ts';
import { AppService } from './service.ts';

function makeWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lref-app-'));
  writeFileSync(join(dir, 'nb.ipynb'), serializeNotebook(newNotebook([newCodeCell('1 + 1', 'a')])));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  return dir;
}

describe('AppService: the contract at the edge', () => {
  const service = new AppService({ workspace: makeWorkspace(), shell: 'browser' });
  afterAll(() => service.dispose());

  it('answers malformed requests with bad_request naming the field, never throwing', async () => {
    expect(await service.handleRequest({ id: 1, op: 'no.such', params: {} })).toMatchObject({ id: 1, ok: false, error: { code: 'bad_request' } });
    expect(await service.handleRequest({ id: 2, op: 'notebook.open', params: { path: 3 } })).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/notebook\.open: path/) } });
    expect(await service.handleRequest('junk')).toMatchObject({ id: -1, ok: false });
    expect(await service.handleRequest({ id: 3, op: 'notebook.open', params: { path: '../etc/passwd.ipynb' } })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await service.handleRequest({ id: 4, op: 'notebook.open', params: { path: 'missing.ipynb' } })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('saves atomically and refuses to overwrite a notebook changed on disk', async () => {
    const opened = await service.call('notebook.open', { path: 'nb.ipynb' });
    writeFileSync(join(service.workspace.root, 'nb.ipynb'), serializeNotebook(newNotebook([newCodeCell('2 + 2', 'b')])));
    const res = await service.handleRequest({ id: 5, op: 'notebook.save', params: { path: 'nb.ipynb', notebook: opened.notebook, base: opened.version } });
    expect(res).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const forced = await service.call('notebook.save', { path: 'nb.ipynb', notebook: opened.notebook, base: opened.version, force: true });
    expect(forced.version).toEqual(service.workspace.version('nb.ipynb'));
    const back = await service.call('notebook.open', { path: 'nb.ipynb' });
    expect(back.notebook).toEqual(opened.notebook);
    await service.call('kernel.shutdown', { path: 'nb.ipynb' });
  });
});

describe('AppService: kernels, queue and interrupt (a real kernel process)', () => {
  const service = new AppService({ workspace: makeWorkspace(), shell: 'browser', interruptGraceMs: 3000 });
  const events: AppEvent[] = [];
  service.onEvent((e) => events.push(e));
  afterAll(() => service.dispose());

  const finished = (cell: string) =>
    new Promise<void>((resolve) => {
      const off = service.onEvent((e) => {
        if ((e.type === 'kernel.message' && e.cell_id === cell && e.message.type === 'status' && e.message.state === 'idle') || (e.type === 'cell.aborted' && e.cell_id === cell)) {
          off();
          resolve();
        }
      });
    });

  it('runs queued cells in order and drops the rest of the queue after an error', async () => {
    const done = finished('c3');
    await service.call('cell.execute', {
      path: 'nb.ipynb',
      cells: [
        { cell_id: 'c1', code: 'const x = 40;' },
        { cell_id: 'c2', code: 'throw new Error("boom at line 1")' },
        { cell_id: 'c3', code: 'x + 2' },
      ],
    });
    await done;
    const of = (id: string) => events.filter((e) => 'cell_id' in e && e.cell_id === id);
    expect(of('c1').map((e) => e.type)).toContain('cell.queued');
    expect(of('c2').some((e) => e.type === 'kernel.message' && e.message.type === 'error' && e.message.evalue.includes('boom'))).toBe(true);
    expect(of('c3').some((e) => e.type === 'cell.aborted')).toBe(true);
    expect(of('c3').some((e) => e.type === 'kernel.message')).toBe(false);
  });

  it('interrupts while (true) {} and keeps the kernel state', async () => {
    const spin = finished('spin');
    await service.call('cell.execute', { path: 'nb.ipynb', cells: [{ cell_id: 'spin', code: 'while (true) {}' }] });
    await new Promise((r) => setTimeout(r, 300));
    const { outcome } = await service.call('kernel.interrupt', { path: 'nb.ipynb' });
    await spin;
    expect(outcome).toBe('interrupted');
    const after = finished('after');
    await service.call('cell.execute', { path: 'nb.ipynb', cells: [{ cell_id: 'after', code: 'x + 2' }] });
    await after;
    const result = events.find((e) => e.type === 'kernel.message' && e.cell_id === 'after' && e.message.type === 'execute_result');
    expect(result && result.type === 'kernel.message' && result.message.type === 'execute_result' && result.message.data['text/plain']).toBe('42');
  });

  it('restart gives a fresh context and reports its states', async () => {
    events.length = 0;
    await service.call('kernel.restart', { path: 'nb.ipynb' });
    expect(events.filter((e) => e.type === 'kernel.state').map((e) => e.type === 'kernel.state' && e.state)).toEqual(expect.arrayContaining(['restarting', 'starting', 'idle']));
    const done = finished('fresh');
    await service.call('cell.execute', { path: 'nb.ipynb', cells: [{ cell_id: 'fresh', code: 'typeof x' }] });
    await done;
    const r = events.find((e) => e.type === 'kernel.message' && e.cell_id === 'fresh' && e.message.type === 'execute_result');
    expect(r && r.type === 'kernel.message' && r.message.type === 'execute_result' && r.message.data['text/plain']).toBe('undefined');
  });
});

describe('browser mode server: the launch token', () => {
  let server: BrowserServer;
  const ws = makeWorkspace();
  const service = new AppService({ workspace: ws, shell: 'browser' });
  beforeAll(async () => {
    server = await startBrowserServer({ service, staticDir: ws, token: 'tok123' });
  });
  afterAll(async () => {
    await server.close();
    await service.dispose();
  });

  it('binds 127.0.0.1 and refuses HTTP without the token (403)', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=tok123$/);
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/index.html?token=wrong`)).status).toBe(403);
    const ok = await fetch(`${base}/?token=tok123`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${base}/index.html`, { headers: { cookie } })).status).toBe(200);
    // fetch() normalises dot segments away; a raw request sends them as a hostile client would.
    const raw = (path: string) => new Promise<number>((r) => get({ host: '127.0.0.1', port: server.port, path, headers: { cookie } }, (res) => (res.resume(), r(res.statusCode ?? 0))));
    expect(await raw('/..%2f..%2f..%2f..%2fetc%2fhost.conf')).toBe(404);
    expect(await raw('/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fhost.conf')).toBe(404);
  });

  it('refuses the WebSocket without the token or from another origin, and answers with it', async () => {
    const status = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const c = new WebSocket(url, { headers });
        c.on('open', () => (c.close(), resolve(101)));
        c.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        c.on('error', () => resolve(-1));
      });
    const wsUrl = `ws://127.0.0.1:${server.port}/api/ws`;
    expect(await status(wsUrl)).toBe(403);
    expect(await status(`${wsUrl}?token=tok123`, { origin: 'http://evil.example' })).toBe(403);
    const client = new WebSocket(`${wsUrl}?token=tok123`);
    await new Promise((r) => client.on('open', r));
    const reply = new Promise<unknown>((r) => client.on('message', (d) => r(JSON.parse(d.toString()))));
    client.send(JSON.stringify({ id: 7, op: 'workspace.tree', params: {} }));
    expect(await reply).toMatchObject({ response: { id: 7, ok: true, result: { entries: [{ path: 'nb.ipynb', kind: 'notebook' }] } } });
    client.close();
  });
});
