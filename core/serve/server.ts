import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import { apiError, ChatRequest, issueText, pairFromChat, RelevanceRequest, type RelevanceResult } from './protocol.ts';
import type { ServedJudge } from './judge.ts';
import { QueueFullError, WorkQueue, type QueueStats } from './queue.ts';

/**
 * `lref serve`: a bundle behind an OpenAI-compatible HTTP API on node:http.
 *
 *   GET  /healthz              liveness + queue and memory figures (no key needed)
 *   GET  /v1/models            the one model, named "<run id>/<variant>"
 *   POST /v1/chat/completions  the last user message names a pair; the answer is rationale + grade
 *                              ("Answer: <grade>", which parseAnswer and LLM-judge parsers read);
 *                              `stream: true` sends server-sent events as OpenAI does
 *   POST /v1/relevance         {"pairs": [...], "rationale"?: bool} → {"results": [{grade, probs, rationale?}]}
 *
 * Errors use OpenAI's shape {"error": {message, type, param, code}}: 400 bad request, 401 missing
 * or wrong bearer key, 404 unknown route or model, 405, 413 body over the limit, 429 queue full,
 * 500 a model failure. Loopback by default; a bearer key when one is configured.
 */

export interface ServeOptions {
  host?: string;
  port?: number;
  /** the bearer key clients must send; undefined: no key */
  apiKey?: string;
  /** request body limit in bytes (default 1 MiB) */
  maxBodyBytes?: number;
  /** requests waiting for the model before 429 (default 256) */
  maxQueue?: number;
  /** pairs per scoring forward pass when requests are batched (default 64) */
  maxBatchPairs?: number;
  /** tokens a CoT variant may write for one pair (default 64, the pipeline's eval setting) */
  maxNewTokens?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  queue: WorkQueue;
  /** stops accepting, lets queued and running requests finish, then closes (graceful shutdown) */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export async function startServer(judge: ServedJudge, opts: ServeOptions = {}): Promise<RunningServer> {
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const maxNewTokens = opts.maxNewTokens ?? 64;
  const queue = new WorkQueue(judge, { maxQueue: opts.maxQueue ?? 256, maxBatchPairs: opts.maxBatchPairs ?? 64 });
  const created = Math.floor(Date.now() / 1000);
  const keyHash = opts.apiKey !== undefined ? sha(opts.apiKey) : undefined;
  let closing = false;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    if (route === 'GET /healthz') return sendJson(res, 200, health(judge, queue.snapshot(), closing));
    if (closing) throw new HttpError(503, 'the server is shutting down', 'server_error', 'shutting_down');
    if (keyHash) checkKey(req, keyHash);
    switch (route) {
      case 'GET /v1/models':
        return sendJson(res, 200, { object: 'list', data: [modelCard(judge, created)] });
      case 'POST /v1/chat/completions':
        return chat(req, res);
      case 'POST /v1/relevance':
        return relevance(req, res);
    }
    if (['/v1/models', '/v1/chat/completions', '/v1/relevance'].includes(url.pathname)) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
    throw new HttpError(404, `no route ${req.method} ${url.pathname}`, 'invalid_request_error', 'not_found');
  };

  async function relevance(req: IncomingMessage, res: ServerResponse) {
    const body = parse(RelevanceRequest, await readJson(req, maxBody));
    const pairs = body.pairs.map((p, i) => judge.toPair(p, i));
    const scored = await queue.score(pairs);
    const written = body.rationale ? await queue.generate(pairs, maxNewTokens) : undefined;
    const results: RelevanceResult[] = scored.map((s, i) => ({
      grade: s.label,
      probs: s.probs,
      ...(body.rationale ? { rationale: written?.[i]?.rationale ?? '' } : {}),
    }));
    sendJson(res, 200, { model: judge.name, results });
  }

  async function chat(req: IncomingMessage, res: ServerResponse) {
    const body = parse(ChatRequest, await readJson(req, maxBody));
    if (body.model !== judge.name) throw new HttpError(404, `the model "${body.model}" does not exist; this server has "${judge.name}"`, 'invalid_request_error', 'model_not_found', 'model');
    const pair = pairFromChat(body.messages);
    if ('error' in pair) throw new HttpError(400, pair.error, 'invalid_request_error', null, 'messages');
    const record = judge.toPair(pair, 0);
    const limit = Math.min(body.max_completion_tokens ?? body.max_tokens ?? maxNewTokens, 256);
    // CoT variants answer as they were evaluated (generation); label variants by scoring.
    const written = judge.writesRationale ? (await queue.generate([record], limit))?.[0] : undefined;
    const grade = written?.label ?? (await queue.score([record]))[0].label;
    const content = written?.rationale ? `${written.rationale}\nAnswer: ${grade}` : `Answer: ${grade}`;
    const id = `chatcmpl-${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    const promptTokens = judge.promptTokens(record);
    const completionTokens = judge.rm.tokenizer.encode(content).length;
    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created: now,
        model: judge.name,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
    // Server-sent events in OpenAI's chunk format: the role, the content in pieces, the finish, [DONE].
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: now, model: judge.name, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const piece of content.match(/\S+\s*|\s+/g) ?? []) res.write(chunk({ content: piece }, null));
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => sendError(res, err, opts.log));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8000, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    queue,
    async close() {
      // 1. New requests get 503 (connection: close); requests already received run to the end.
      closing = true;
      await queue.idle();
      // 2. A short grace with the event loop free: requests that were on the wire while the model
      //    computed are read now and answered (503 if they arrived after the signal), not reset.
      await new Promise((r) => setTimeout(r, 250));
      await queue.idle();
      // 3. Stop listening and close idle keep-alive connections; cut anything left after 5 s.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(timer);
    },
  };
}

function sha(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function checkKey(req: IncomingMessage, keyHash: Buffer): void {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) throw new HttpError(401, 'missing bearer key: send "Authorization: Bearer <key>"', 'invalid_request_error', 'invalid_api_key');
  if (!timingSafeEqual(sha(m[1].trim()), keyHash)) throw new HttpError(401, 'incorrect API key', 'invalid_request_error', 'invalid_api_key');
}

/** The body as JSON, refusing (413) past `limit` bytes without reading the rest. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `request body of ${declared} bytes is over the limit of ${limit}`, 'invalid_request_error', 'request_too_large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `request body is over the limit of ${limit} bytes`, 'invalid_request_error', 'request_too_large');
    }
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON (${(e as Error).message})`);
  }
}

function parse<S extends z.ZodType>(schema: S, json: unknown): z.output<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const { message, param } = issueText(r.error);
  throw new HttpError(400, message, 'invalid_request_error', null, param);
}

function modelCard(judge: ServedJudge, created: number) {
  return { id: judge.name, object: 'model', created, owned_by: 'lref', scheme: judge.info.scheme, labels: [...judge.rm.scheme.labels] };
}

function health(judge: ServedJudge, q: QueueStats, closing: boolean) {
  const m = process.memoryUsage();
  // tensors: a count that grows with traffic is a leak in the model path
  return { status: closing ? 'closing' : 'ok', model: judge.name, queue: q, memory: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, tensors: tf.memory().numTensors } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, log?: (line: string) => void): void {
  let status = 500;
  let body;
  const headers: Record<string, string> = {};
  if (err instanceof HttpError) {
    status = err.status;
    body = apiError(err.message, err.type, err.code, err.param);
    if (status === 401) headers['www-authenticate'] = 'Bearer';
    if (status === 413 || status === 503) headers.connection = 'close';
  } else if (err instanceof QueueFullError) {
    status = 429;
    body = apiError(err.message, 'rate_limit_error', 'queue_full');
    headers['retry-after'] = '1';
  } else {
    log?.(`internal error: ${(err as Error).stack ?? String(err)}`);
    body = apiError('internal error while running the model', 'server_error', 'internal_error');
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
