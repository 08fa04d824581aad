import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../core/cli/main.ts';
import type { PairRecord } from '../core/data/schema.ts';
import { readJsonl } from '../core/runs/store.ts';
import { PairRecord as PairSchema } from '../core/runs/schema.ts';
import { BundleJudge } from '../core/serve/judge.ts';
import { startServer, type RunningServer } from '../core/serve/server.ts';
import { bufferIO } from './helpers/io.ts';

/**
 * The whole path of issue 12, in-process: a pipeline run → `lref export --to bundle` → serve → the
 * official `openai` client lists the model and gets completions (plain and streamed), and
 * /v1/relevance grades the run's test pairs exactly as `lref eval` does; malformed requests get
 * 400 / 401 / 404 / 413 / 429 with OpenAI's JSON error shape.
 */

const root = mkdtempSync(join(tmpdir(), 'lref-export-serve-'));
const run = join(root, 'run');
const servers: RunningServer[] = [];
const judges: BundleJudge[] = [];

beforeAll(async () => {
  const config = join(root, 'fast.json');
  writeFileSync(
    config,
    JSON.stringify({
      preset: 'smoke',
      train: { steps: 40, subsetBase: 'sft_all', subsetSteps: 12 },
      selection: { auxSteps: 20 },
      cot: { steps: 20, answerFirst: true },
      dpo: { minePairs: 32 },
      baselines: { crossEncoder: { steps: 20 } },
    }),
  );
  const io = bufferIO();
  expect(await main(['pipeline', '--config', config, '--out', run, '--json'], io)).toBe(0);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const j of judges) j.dispose();
  rmSync(root, { recursive: true, force: true });
});

async function serveBundle(dir: string, opts: Parameters<typeof startServer>[1] = {}): Promise<RunningServer> {
  const judge = BundleJudge.load(dir);
  judges.push(judge);
  const s = await startServer(judge, { port: 0, ...opts });
  servers.push(s);
  return s;
}

async function exportBundle(variant: string): Promise<string> {
  const out = join(root, `bundle-${variant.replace(/\W/g, '')}`);
  if (existsSync(out)) return out;
  const io = bufferIO();
  const code = await main(['export', run, '--variant', variant, '--to', 'bundle', '--out', out], io);
  expect(io.stderr.join('\n')).toBe('');
  expect(code).toBe(0);
  return out;
}

const apiPair = (p: PairRecord) => ({
  query: p.query,
  title: p.title,
  ...(p.brand ? { brand: p.brand } : {}),
  ...(p.category ? { category: p.category } : {}),
  ...(p.attributes ? { attributes: p.attributes } : {}),
  ...(p.description ? { description: p.description } : {}),
});

describe('pipeline run → bundle → lref serve → openai client', () => {
  it('exports a bundle whose manifest verifies, and catches a changed or extra file', async () => {
    const b = await exportBundle('sft_selected');
    const io = bufferIO();
    expect(await main(['export', '--verify', b], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/ok, 9 files match the manifest/);
    const card = readFileSync(join(b, 'METRICS.md'), 'utf8');
    expect(card).toContain('| **sft_selected** (this bundle) |');
    expect(card).toContain('| lexical |');
    expect(JSON.parse(readFileSync(join(b, 'labels.json'), 'utf8')).labels).toEqual(['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant']);
    expect(existsSync(join(b, 'model', 'optimizer.bin'))).toBe(false);

    // a copy with one byte changed and one stray file
    const bad = join(root, 'tampered');
    await main(['export', run, '--variant', 'sft_selected', '--to', 'bundle', '--out', bad], bufferIO());
    const w = readFileSync(join(bad, 'model', 'weights.bin'));
    w[10] ^= 1;
    writeFileSync(join(bad, 'model', 'weights.bin'), w);
    writeFileSync(join(bad, 'notes.txt'), 'hi');
    const io2 = bufferIO();
    expect(await main(['export', '--verify', bad, '--json'], io2)).toBe(1);
    expect(JSON.parse(io2.stdout[0]).problems).toEqual(['model/weights.bin: sha256 differs from the manifest', 'notes.txt: not in the manifest']);
    expect(() => BundleJudge.load(bad)).toThrow(/does not match its manifest/);

    // refusals: an existing folder, a variant without a decoder checkpoint, an unknown variant
    const io3 = bufferIO();
    expect(await main(['export', run, '--variant', 'sft_selected', '--to', 'bundle', '--out', b], io3)).toBe(2);
    expect(io3.stderr[0]).toMatch(/already exists and is not empty/);
    const io4 = bufferIO();
    expect(await main(['export', run, '--variant', 'lexical', '--to', 'bundle', '--out', join(root, 'x')], io4)).toBe(2);
    expect(io4.stderr[0]).toMatch(/"lexical" has no decoder checkpoint to serve/);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('the openai client lists the model and gets a completion, plain and streamed; /v1/relevance equals lref eval', async () => {
    const b = await exportBundle('sft_selected');
    const s = await serveBundle(b, { apiKey: 'test-key' });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
    const models = await client.models.list();
    const name = JSON.parse(readFileSync(join(b, 'bundle.json'), 'utf8')).name as string;
    expect(models.data.map((m) => m.id)).toEqual([name]);

    const pairs = readJsonl(join(run, 'pairs.jsonl'), PairSchema);
    const ask = { model: name, messages: [{ role: 'user' as const, content: `query: ${pairs[0].query}\ntitle: ${pairs[0].title}` }] };
    const done = await client.chat.completions.create(ask);
    expect(done.object).toBe('chat.completion');
    expect(done.choices[0].finish_reason).toBe('stop');
    expect(done.choices[0].message.content).toMatch(/^Answer: (Exact|Significant|Marginal|Trivial|Irrelevant)$/);
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).toBe(done.choices[0].message.content);

    // /v1/relevance on the run's test pairs vs `lref eval --predictions` on the same bundle
    const res = await fetch(`${s.url}/v1/relevance`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ pairs: pairs.map(apiPair) }),
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { grade: string; probs: Record<string, number> }[] };
    const predFile = join(root, 'eval-preds.jsonl');
    expect(await main(['eval', '--model', join(b, 'model'), '--data', join(run, 'pairs.jsonl'), '--scheme', 'lref5', '--predictions', predFile, '--json'], bufferIO())).toBe(0);
    const evalPreds = readFileSync(predFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string; probs: Record<string, number> });
    expect(results.map((r) => r.grade)).toEqual(evalPreds.map((p) => p.label));
    results.forEach((r, i) => {
      for (const [label, p] of Object.entries(evalPreds[i].probs)) expect(r.probs[label]).toBeCloseTo(p, 5);
    });
    // and the grades are the run's own predictions for that variant
    const runPreds = readFileSync(join(run, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((p) => p.variant === 'sft_selected');
    expect(results.map((r) => r.grade)).toEqual(runPreds.map((p: { label: string }) => p.label));

    // 401: no key, a wrong key (the client raises its AuthenticationError)
    const noKey = await fetch(`${s.url}/v1/models`);
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    await expect(new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('a CoT variant answers with its rationale and grade', async () => {
    const b = await exportBundle('+ee');
    const s = await serveBundle(b);
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const [{ id }] = (await client.models.list()).data;
    const pairs = readJsonl(join(run, 'pairs.jsonl'), PairSchema);
    const r = await client.chat.completions.create({ model: id, messages: [{ role: 'user', content: JSON.stringify(apiPair(pairs[1])) }], max_tokens: 48 });
    expect(r.choices[0].message.content).toMatch(/\nAnswer: (Exact|Significant|Marginal|Trivial|Irrelevant)$|^Answer: /);
    const rel = await fetch(`${s.url}/v1/relevance`, { method: 'POST', body: JSON.stringify({ pairs: [apiPair(pairs[1])], rationale: true }) });
    const body = (await rel.json()) as { results: { grade: string; rationale: string }[] };
    expect(typeof body.results[0].rationale).toBe('string');
  });

  it('malformed requests: 400, 404, 405, 413 and 429 with a JSON error body, and the server keeps serving', async () => {
    const b = join(root, 'bundle-sft_selected');
    const s = await serveBundle(b, { maxBodyBytes: 4096 });
    const post = (path: string, body: string) => fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const expectError = async (res: Response, status: number, message: RegExp) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { error: { message: string; type: string } };
      expect(body.error.message).toMatch(message);
      expect(typeof body.error.type).toBe('string');
    };
    await expectError(await post('/v1/relevance', '{"pairs": ['), 400, /not valid JSON/);
    await expectError(await post('/v1/relevance', '{}'), 400, /^pairs: /);
    await expectError(await post('/v1/relevance', '{"pairs": [{"query": "a", "title": "b", "colour": "red"}]}'), 400, /pairs\.0\.colour: unknown field/);
    await expectError(await post('/v1/relevance', '{"pairs": []}'), 400, /pairs: /);
    await expectError(await post('/v1/relevance', ''), 400, /empty/);
    await expectError(await post('/v1/chat/completions', '{"model": "nope", "messages": [{"role": "user", "content": "query: a\\ntitle: b"}]}'), 404, /does not exist/);
    const name = JSON.parse(readFileSync(join(b, 'bundle.json'), 'utf8')).name;
    await expectError(await post('/v1/chat/completions', JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hello there' }] })), 400, /must name a query and a product title/);
    await expectError(await post('/v1/chat/completions', JSON.stringify({ model: name, n: 3, messages: [{ role: 'user', content: 'query: a\ntitle: b' }] })), 400, /^n: /);
    await expectError(await fetch(`${s.url}/v1/relevance`), 405, /GET is not allowed/);
    await expectError(await fetch(`${s.url}/v2/nothing`), 404, /no route/);
    await expectError(await post('/v1/relevance', JSON.stringify({ pairs: [{ query: 'q', title: 'x'.repeat(5000) }] })), 413, /over the limit/);

    // A full queue answers 429 with Retry-After (a queue bound of 0 refuses every request; the load
    // test overloads a real one from another process), and the server keeps serving
    const q = await serveBundle(b, { maxQueue: 0 });
    const one = JSON.stringify({ pairs: [{ query: 'cordless drill', title: 'Bosch cordless drill' }] });
    const refused = await fetch(`${q.url}/v1/relevance`, { method: 'POST', body: one });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('queue_full');
    expect((await post('/v1/relevance', one)).status).toBe(200);
    const health = (await (await fetch(`${q.url}/healthz`)).json()) as { status: string; queue: { refused: number } };
    expect(health.status).toBe('ok');
    expect(health.queue.refused).toBe(1);
  });
});
