import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { OpenAITeacher, Semaphore, TeacherRequestError, loadTemplates } from './openai.ts';
import { UserError } from '../util/errors.ts';

/**
 * A fake OpenAI-compatible server on 127.0.0.1 (random port). Each test installs a `handler`;
 * every request is recorded with its parsed body, and in-flight requests are counted.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: { model: string; messages: { role: string; content: string }[]; temperature: number; max_tokens: number };
}
let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let inFlight = 0;
let maxInFlight = 0;
let handler: (req: Seen, res: ServerResponse, n: number) => void | Promise<void> = () => {};

function reply(res: ServerResponse, content: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content } }] }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', async () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') };
      seen.push(s);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      await handler(s, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  process.env.LREF_TEST_KEY = 'sk-test-123';
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  delete process.env.LREF_TEST_KEY;
});

afterEach(() => {
  seen = [];
  inFlight = 0;
  maxInFlight = 0;
  handler = () => {};
});

const pair: PairRecord = {
  pair_id: 'p-17',
  query_id: 'q-3',
  query: 'nike running shoes women red',
  product_id: 'sku-9',
  title: "Nike Air Zoom women's running shoe",
  brand: 'Nike',
  category: 'Shoes > Running',
  attributes: { colour: 'blue', audience: 'women' },
  label: 'Significant',
};

function teacher(extra: Partial<ConstructorParameters<typeof OpenAITeacher>[0]> = {}): OpenAITeacher {
  return new OpenAITeacher({ baseUrl, model: 'fake-gpt', apiKeyEnv: 'LREF_TEST_KEY', backoffMs: 5, maxBackoffMs: 20, ...extra });
}

describe('OpenAITeacher over a fake OpenAI-compatible server', () => {
  it('POSTs baseUrl + /chat/completions with auth, model, system+user messages, temperature, max_tokens', async () => {
    handler = (_s, res) => reply(res, 'Category matches; colour differs. Grade: Significant');
    const t = teacher({ temperature: 0.3, maxTokens: 123 });
    const text = await t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Significant' });
    expect(text).toBe('Category matches; colour differs. Grade: Significant');
    expect(t.id).toBe('openai:fake-gpt');
    expect(seen).toHaveLength(1);
    const [s] = seen;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/v1/chat/completions');
    expect(s.headers.authorization).toBe('Bearer sk-test-123');
    expect(s.headers['content-type']).toBe('application/json');
    expect(s.body.model).toBe('fake-gpt');
    expect(s.body.temperature).toBe(0.3);
    expect(s.body.max_tokens).toBe(123);
    expect(s.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const user = s.body.messages[1].content;
    expect(user).toContain('Query: nike running shoes women red');
    expect(user).toContain("Product title: Nike Air Zoom women's running shoe");
    expect(user).toContain('Attributes: colour: blue; audience: women');
    expect(user).toContain('The correct grade for this pair is: Significant');
    expect(user).toContain('- Marginal: same or substitute type');
    expect(user).not.toMatch(/\{\{/);
  });

  it('puts the rules into RA prompts and the wrong decision into DR prompts; refuses when they are missing', async () => {
    handler = (_s, res) => reply(res, 'ok');
    const t = teacher();
    await t.rationale({ kind: 'ra', pair, scheme: LREF5, gold: 'Significant', rules: 'RULE-42: colour is secondary' });
    await t.rationale({ kind: 'dr', pair, scheme: LREF5, gold: 'Significant', wrong: 'Exact' });
    expect(seen[0].body.messages[1].content).toContain('Grading rules:\nRULE-42: colour is secondary');
    expect(seen[1].body.messages[1].content).toContain('An annotator graded this pair Exact. That decision is wrong; the correct grade is Significant.');
    await expect(t.rationale({ kind: 'dr', pair, scheme: LREF5, gold: 'Significant' })).rejects.toThrow(/p-17.*wrong decision/);
    await expect(t.rationale({ kind: 'ra', pair, scheme: LREF5, gold: 'Significant' })).rejects.toThrow(/p-17.*grading rules/);
    expect(seen).toHaveLength(2);
  });

  it('retries after 500s and then succeeds', async () => {
    handler = (_s, res, n) => {
      if (n <= 2) {
        res.writeHead(500);
        res.end('upstream exploded');
      } else reply(res, 'third time lucky');
    };
    const t = teacher({ retries: 3 });
    expect(await t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Significant' })).toBe('third time lucky');
    expect(seen).toHaveLength(3);
    expect(t.stats).toEqual({ requests: 3, cacheHits: 0, retries: 2 });
  });

  it('waits as long as a 429 Retry-After says before retrying', async () => {
    let firstAt = 0;
    let secondAt = 0;
    handler = (_s, res, n) => {
      if (n === 1) {
        firstAt = Date.now();
        res.writeHead(429, { 'retry-after': '1' });
        res.end('{"error":{"message":"rate limited"}}');
      } else {
        secondAt = Date.now();
        reply(res, 'after the wait');
      }
    };
    const t = teacher({ backoffMs: 1 }); // our own backoff alone would retry after ~1 ms
    expect(await t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Significant' })).toBe('after the wait');
    expect(seen).toHaveLength(2);
    expect(secondAt - firstAt).toBeGreaterThanOrEqual(990);
    expect(secondAt - firstAt).toBeLessThan(2500);
  });

  it('never has more requests in flight than the concurrency limit', async () => {
    handler = (s, res) => void setTimeout(() => reply(res, `answer for ${s.body.messages[1].content.length}`), 40);
    const t = teacher({ concurrency: 3 });
    const pairs = Array.from({ length: 10 }, (_, i) => ({ ...pair, pair_id: `p${i}`, query: `query number ${'x'.repeat(i)}` }));
    const out = await Promise.all(pairs.map((p) => t.rationale({ kind: 'ee', pair: p, scheme: LREF5, gold: 'Exact' })));
    expect(out).toHaveLength(10);
    expect(new Set(out).size).toBe(10);
    expect(seen).toHaveLength(10);
    expect(maxInFlight).toBe(3);
  });

  it('answers a repeated request from the disk cache without a second HTTP request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-cache-'));
    try {
      handler = (_s, res) => reply(res, 'cached rationale');
      const req = { kind: 'ee' as const, pair, scheme: LREF5, gold: 'Significant' };
      const first = teacher({ cacheDir: dir });
      expect(await first.rationale(req)).toBe('cached rationale');
      expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      // A fresh teacher (a re-run) over the same folder: no traffic at all.
      const rerun = teacher({ cacheDir: dir });
      expect(await rerun.rationale(req)).toBe('cached rationale');
      expect(seen).toHaveLength(1);
      expect(rerun.stats).toEqual({ requests: 0, cacheHits: 1, retries: 0 });
      // A different temperature is a different request.
      await teacher({ cacheDir: dir, temperature: 0.7 }).rationale(req);
      expect(seen).toHaveLength(2);
      expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shares one HTTP request between identical concurrent calls', async () => {
    handler = (_s, res) => void setTimeout(() => reply(res, 'once'), 20);
    const t = teacher();
    const req = { kind: 'ee' as const, pair, scheme: LREF5, gold: 'Significant' };
    expect(await Promise.all([t.rationale(req), t.rationale(req)])).toEqual(['once', 'once']);
    expect(seen).toHaveLength(1);
  });

  it('turns a hung server into a clear timeout error, after its retries', async () => {
    handler = () => {}; // never answers
    const t = teacher({ timeoutMs: 150, retries: 1 });
    const started = Date.now();
    const err = await t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Significant' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TeacherRequestError);
    expect((err as Error).message).toBe(`openai:fake-gpt: POST ${baseUrl}/chat/completions failed after 2 attempts: timed out after 150 ms (timeoutMs)`);
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('reports status and a body excerpt when a 5xx persists, and does not retry a 400', async () => {
    handler = (_s, res) => {
      res.writeHead(503, 'Service Unavailable');
      res.end('{"error": "overloaded, try later"}');
    };
    const err = (await teacher({ retries: 2 })
      .rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })
      .catch((e: unknown) => e)) as TeacherRequestError;
    expect(err.message).toMatch(/failed after 3 attempts: HTTP 503 Service Unavailable: \{"error": "overloaded, try later"\}$/);
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(3);
    expect(seen).toHaveLength(3);

    seen = [];
    handler = (_s, res) => {
      res.writeHead(400);
      res.end('{"error":{"message":"model not found"}}');
    };
    const bad = (await teacher({ retries: 4 })
      .rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })
      .catch((e: unknown) => e)) as TeacherRequestError;
    expect(bad.message).toMatch(/failed after 1 attempt: HTTP 400 Bad Request: .*model not found/);
    expect(seen).toHaveLength(1);
  });

  it('names the missing API key variable before sending anything', async () => {
    const t = teacher({ apiKeyEnv: 'LREF_TEST_KEY_NOT_SET' });
    await expect(t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })).rejects.toThrow(
      /environment variable LREF_TEST_KEY_NOT_SET is not set/,
    );
    expect(seen).toHaveLength(0);
    handler = (_s, res) => reply(res, 'keyless ok');
    expect(await teacher({ apiKeyEnv: '' }).rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })).toBe('keyless ok');
    expect(seen[0].headers.authorization).toBeUndefined();
  });

  it('reports a connection refused as a network error after retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const t = new OpenAITeacher({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', apiKeyEnv: '', retries: 1, backoffMs: 1 });
    await expect(t.rationale({ kind: 'ee', pair, scheme: LREF5, gold: 'Exact' })).rejects.toThrow(
      /failed after 2 attempts: network error: .*ECONNREFUSED/,
    );
  });

  it('reads the confusable label out of the answer and rejects an answer naming no other grade', async () => {
    handler = (_s, res, n) => reply(res, n === 1 ? 'Marginal.' : 'Significant');
    const t = teacher();
    expect(await t.confusableLabel({ pair, scheme: LREF5, gold: 'Significant' })).toBe('Marginal');
    expect(seen[0].body.messages[1].content).toContain('The annotated grade is Significant.');
    await expect(t.confusableLabel({ pair: { ...pair, pair_id: 'p-18' }, scheme: LREF5, gold: 'Significant' })).rejects.toThrow(
      /p-18: the confusable-label answer names no grade of lref5 other than Significant/,
    );
  });
});

describe('helpers', () => {
  it('Semaphore runs at most `limit` tasks and all of them', async () => {
    const sem = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const done = await Promise.all(
      [5, 1, 3, 2, 4].map((ms, i) =>
        sem.run(async () => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, ms));
          active--;
          return i;
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('loads an edited templates file and rejects an unknown placeholder with the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-tpl-'));
    try {
      const good = { version: 1, kinds: Object.fromEntries(['ee', 'ra', 'dr', 'ms'].map((k) => [k, { system: 'S', user: `${k}: {{query}} → {{gold}}` }])) };
      writeFileSync(join(dir, 'good.json'), JSON.stringify(good));
      expect(loadTemplates(join(dir, 'good.json')).kinds.dr.user).toBe('dr: {{query}} → {{gold}}');
      const bad = structuredClone(good);
      bad.kinds.ra.user = 'uses {{qurey}}';
      writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
      expect(() => loadTemplates(join(dir, 'bad.json'))).toThrow(UserError);
      expect(() => loadTemplates(join(dir, 'bad.json'))).toThrow(/bad\.json: kinds\.ra\.user: unknown placeholder \{\{qurey\}\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
