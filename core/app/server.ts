import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppService } from './service.ts';

/**
 * Browser mode: core serves the built renderer and the contract on 127.0.0.1, like Jupyter. Every
 * HTTP request and the WebSocket need the per-launch token (the `?token=` of the printed URL, then
 * an HttpOnly cookie), so another local user's browser tab or process cannot drive the kernel.
 */
export interface BrowserServerOptions {
  service: AppService;
  /** the built renderer (index.html + assets) */
  staticDir: string;
  port?: number;
  token?: string;
}

export interface BrowserServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'lref_token';
const MAX_MESSAGE = 64 * 1024 * 1024;
/** Content types of the built renderer's files, for both shells' file serving. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
};

/** The page may load and connect to itself only: Monaco's workers are same-origin, Vega runs without eval. */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  const server: Server = createServer((req, res) => {
    try {
      serveHttp(req, res, token, opts.staticDir);
    } catch (e) {
      send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(e as Error).message}`);
    }
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const host = req.headers.host ?? '';
    // A page on another origin must not reach the kernel, even from this machine.
    const originOk = !req.headers.origin || req.headers.origin === `http://${host}`;
    if (url.pathname !== '/api/ws' || !authorized(req, url, token) || !originOk) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, opts.service));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One browser tab: requests answered in any order (a long kernel.restart never blocks a save), events pushed. */
function connect(ws: WebSocket, service: AppService): void {
  const off = service.onEvent((event) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }));
  });
  ws.on('message', async (data) => {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch {
      ws.send(JSON.stringify({ response: { id: -1, ok: false, error: { code: 'bad_request', message: 'request: not valid JSON' } } }));
      return;
    }
    const response = await service.handleRequest(raw);
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ response }));
  });
  ws.on('close', off);
  ws.on('error', off);
}

function serveHttp(req: IncomingMessage, res: ServerResponse, token: string, staticDir: string): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (!authorized(req, url, token)) {
    send(res, 403, 'text/plain; charset=utf-8', 'Forbidden: open the URL with the token that `lref app` printed.\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'only GET here; the app talks over /api/ws\n');
    return;
  }
  if (url.searchParams.get('token') === token) {
    // The cookie authorises the page's own asset and WebSocket requests after the first load.
    res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
  }
  let rel = decodeURIComponent(url.pathname);
  if (rel === '/' || !extname(rel)) rel = '/index.html'; // client-side routes get the app
  const file = normalize(join(staticDir, rel));
  if (!file.startsWith(normalize(staticDir) + sep) || !existsSync(file) || !statSync(file).isFile()) {
    send(res, 404, 'text/plain; charset=utf-8', `not found: ${url.pathname}\n`);
    return;
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': rel === '/index.html' ? 'no-store' : 'max-age=3600',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const given = url.searchParams.get('token') ?? cookie(req, COOKIE) ?? bearer(req);
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('token ') ? h.slice(6) : h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
