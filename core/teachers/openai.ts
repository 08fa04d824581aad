import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { z } from 'zod';
import defaultTemplatesJson from './openai-templates.json' with { type: 'json' };
import type { LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { inputError, UserError } from '../util/errors.ts';
import { cacheKey, ResponseCache } from './cache.ts';
import { parseLabel, type ConfusableRequest, type RationaleRequest, type Teacher } from './teacher.ts';

/**
 * A teacher over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server,
 * Ollama's /v1, `lref serve`, …) through the official `openai` npm client: baseUrl includes the
 * version segment, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1". The client does
 * the transport — timeouts, retries on 408/409/429/5xx/network errors with exponential backoff and
 * jitter, Retry-After — and we keep what it does not: at most `concurrency` requests in flight, one
 * request for identical concurrent calls, and the on-disk cache so a re-run is free.
 */
export const OpenAITeacherConfig = z
  .object({
    version: z.literal(1).default(1),
    /** endpoint root including /v1 */
    baseUrl: z.url(),
    model: z.string().min(1),
    /** name of the environment variable holding the API key; "" sends no Authorization header (local servers) */
    apiKeyEnv: z.string().default('OPENAI_API_KEY'),
    /** 0 by default: rationales should be reproducible, and the cache assumes the answer is a function of the request */
    temperature: z.number().min(0).max(2).default(0),
    /** rationales are asked to stay under ~150 words; 400 tokens leaves room without paying for rambling */
    maxTokens: z.number().int().positive().default(400),
    /** requests in flight at once; 4 stays under most providers' default per-key limits */
    concurrency: z.number().int().positive().default(4),
    /** extra attempts after the first on retryable failures (the openai client's maxRetries) */
    retries: z.number().int().min(0).default(4),
    /** per attempt, covering connect, response and body (the openai client's timeout) */
    timeoutMs: z.number().int().positive().default(60_000),
    /**
     * No longer used (kept so configs written before the move to the openai client still parse):
     * the client backs off from 0.5 s doubling to 8 s with jitter, and waits as long as a
     * Retry-After of up to 60 s asks.
     */
    backoffMs: z.number().min(0).default(500),
    maxBackoffMs: z.number().min(0).default(30_000),
    maxRetryAfterMs: z.number().min(0).default(300_000),
    /** response cache folder; omit to disable caching */
    cacheDir: z.string().optional(),
    /** a JSON file in the shape of openai-templates.json, to edit the prompts without touching code */
    templatesFile: z.string().optional(),
    /** no longer used (the openai client draws its own backoff jitter); kept so older configs parse */
    seed: z.number().int().default(0),
  })
  .strict();
export type OpenAITeacherConfig = z.infer<typeof OpenAITeacherConfig>;

// ---------------------------------------------------------------- prompt templates

const MessagePair = z.object({ system: z.string().min(1), user: z.string().min(1) }).strict();
export const TeacherTemplates = z
  .object({
    version: z.literal(1),
    kinds: z.object({ ee: MessagePair, ra: MessagePair, dr: MessagePair, ms: MessagePair }).strict(),
  })
  .strict();
export type TeacherTemplates = z.infer<typeof TeacherTemplates>;
export type TemplateKind = keyof TeacherTemplates['kinds'];

export const DEFAULT_TEMPLATES: TeacherTemplates = TeacherTemplates.parse(defaultTemplatesJson);

export const PLACEHOLDERS = [
  'query', 'title', 'brand', 'category', 'attributes', 'description', 'scheme', 'labels', 'gold', 'wrong', 'rules',
] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/** Reads and validates a templates file; every placeholder must be one of PLACEHOLDERS. */
export function loadTemplates(file: string): TeacherTemplates {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw inputError(file, undefined, `cannot read teacher templates: ${(err as Error).message}`);
  }
  const parsed = TeacherTemplates.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(file, undefined, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  checkPlaceholders(parsed.data, file);
  return parsed.data;
}

function checkPlaceholders(t: TeacherTemplates, file: string): void {
  for (const [kind, pair] of Object.entries(t.kinds)) {
    for (const role of ['system', 'user'] as const) {
      for (const m of pair[role].matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
        if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
          throw inputError(file, undefined, `kinds.${kind}.${role}: unknown placeholder {{${m[1]}}}; known: ${PLACEHOLDERS.join(', ')}`);
        }
      }
    }
  }
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface PromptInput {
  pair: PairRecord;
  scheme: LabelScheme;
  gold: string;
  wrong?: string;
  rules?: string;
}

/** The system + user messages for one request, with every {{placeholder}} filled. */
export function renderMessages(templates: TeacherTemplates, kind: TemplateKind, input: PromptInput): ChatMessage[] {
  const { pair, scheme } = input;
  const attrs = Object.entries(pair.attributes ?? {});
  const values: Record<Placeholder, string | undefined> = {
    query: pair.query,
    title: pair.title,
    brand: pair.brand ?? '(not given)',
    category: pair.category ?? '(not given)',
    attributes: attrs.length ? attrs.map(([k, v]) => `${k}: ${v}`).join('; ') : '(none given)',
    description: pair.description ?? '(not given)',
    scheme: scheme.name,
    labels: scheme.labels.map((l) => `- ${l}: ${scheme.meaning[l] ?? ''}`.trimEnd()).join('\n'),
    gold: input.gold,
    wrong: input.wrong,
    rules: input.rules,
  };
  const fill = (text: string): string =>
    text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, name: string) => {
      const v = values[name as Placeholder];
      if (v === undefined) {
        throw new UserError(
          `pair ${pair.pair_id}: the ${kind} prompt uses {{${name}}} but the request has no ${name}` +
            (name === 'wrong' ? ' (DR needs the sampled wrong decision)' : name === 'rules' ? ' (RA needs the grading rules text)' : ''),
        );
      }
      return v;
    });
  const t = templates.kinds[kind];
  return [
    { role: 'system', content: fill(t.system) },
    { role: 'user', content: fill(t.user) },
  ];
}

// ---------------------------------------------------------------- transport

/** At most `limit` tasks run at once; the rest wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releaser hands its slot over
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** A request that failed for good: after its retries, or at once for a non-retryable status. */
export class TeacherRequestError extends UserError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'TeacherRequestError';
  }
}

function excerpt(body: string, max = 300): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty body)';
}

function describeNetworkError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? String(err)} (${cause})` : (e.message ?? String(err));
}

/** What one call's HTTP attempts looked like, seen from the fetch the client is given. */
interface CallTrace {
  attempts: number;
  lastStatus?: number;
  lastStatusText?: string;
  lastBody?: string;
}

// ---------------------------------------------------------------- the teacher

export interface OpenAITeacherStats {
  /** HTTP attempts made, retries included */
  requests: number;
  cacheHits: number;
  retries: number;
}

export class OpenAITeacher implements Teacher {
  readonly id: string;
  readonly config: OpenAITeacherConfig;
  readonly stats: OpenAITeacherStats = { requests: 0, cacheHits: 0, retries: 0 };
  private readonly url: string;
  private readonly templates: TeacherTemplates;
  private readonly cache: ResponseCache | undefined;
  private readonly semaphore: Semaphore;
  /** identical requests already on the wire share one response */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(config: z.input<typeof OpenAITeacherConfig>) {
    const parsed = OpenAITeacherConfig.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(`openai teacher config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    this.config = parsed.data;
    this.id = `openai:${this.config.model}`;
    this.url = `${this.config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.templates = this.config.templatesFile ? loadTemplates(this.config.templatesFile) : DEFAULT_TEMPLATES;
    this.cache = this.config.cacheDir ? new ResponseCache(this.config.cacheDir) : undefined;
    this.semaphore = new Semaphore(this.config.concurrency);
  }

  async rationale(req: RationaleRequest): Promise<string> {
    if (req.kind === 'dr' && req.wrong === undefined) {
      throw new UserError(`pair ${req.pair.pair_id}: a DR rationale needs the sampled wrong decision (wrong)`);
    }
    if (req.kind === 'ra' && req.rules === undefined) {
      throw new UserError(`pair ${req.pair.pair_id}: an RA rationale needs the grading rules text (rules)`);
    }
    return this.complete(renderMessages(this.templates, req.kind, req));
  }

  async confusableLabel(req: ConfusableRequest): Promise<string> {
    const answer = await this.complete(renderMessages(this.templates, 'ms', req));
    const label = parseLabel(req.scheme, answer, req.gold);
    if (label === undefined) {
      throw new UserError(
        `${this.id}: pair ${req.pair.pair_id}: the confusable-label answer names no grade of ${req.scheme.id} ` +
          `other than ${req.gold}: "${excerpt(answer, 120)}"`,
      );
    }
    return label;
  }

  /** One chat completion: from the cache, from an identical request in flight, or over HTTP. */
  async complete(messages: ChatMessage[]): Promise<string> {
    // The cache key holds everything that shapes the answer, and nothing secret (no API key).
    const request = {
      endpoint: this.url,
      model: this.config.model,
      messages,
      temperature: this.config.temperature,
      max_tokens: this.config.maxTokens,
    };
    const key = cacheKey(request);
    const hit = this.cache?.get(key);
    if (hit !== undefined) {
      this.stats.cacheHits++;
      return hit;
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const task = this.semaphore
      .run(() => this.postWithRetries(messages))
      .then((text) => {
        this.cache?.set(key, request, text);
        return text;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, task);
    return task;
  }

  private apiKey(): string | undefined {
    const name = this.config.apiKeyEnv;
    if (name === '') return undefined;
    const key = process.env[name];
    if (!key) {
      throw new UserError(
        `${this.id}: environment variable ${name} is not set; set it to the API key for ${this.config.baseUrl} ` +
          `(or set apiKeyEnv to "" for a server that needs no key)`,
      );
    }
    return key;
  }

  private async postWithRetries(messages: ChatMessage[]): Promise<string> {
    const key = this.apiKey(); // checked before the first request, so a missing key costs no traffic
    const trace: CallTrace = { attempts: 0 };
    // One client per call, so its fetch can record this call's attempts (counts, the last failure's
    // status line and body for the error message); constructing one costs nothing.
    const client = new OpenAI({
      baseURL: this.config.baseUrl.replace(/\/+$/, ''),
      apiKey: key ?? 'none',
      maxRetries: this.config.retries,
      timeout: this.config.timeoutMs,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        trace.attempts++;
        this.stats.requests++;
        const headers = new Headers(init?.headers);
        if (key === undefined) headers.delete('authorization'); // a local server that needs no key gets none
        const res = await fetch(url, { ...init, headers });
        if (!res.ok) {
          trace.lastStatus = res.status;
          trace.lastStatusText = res.statusText;
          trace.lastBody = await res.clone().text();
        }
        return res;
      },
    });
    const fail = (message: string, status?: number) => {
      const n = trace.attempts;
      return new TeacherRequestError(`${this.id}: POST ${this.url} failed after ${n} attempt${n === 1 ? '' : 's'}: ${message}`, status, n);
    };
    try {
      const completion = await client.chat.completions.create({
        model: this.config.model,
        messages,
        temperature: this.config.temperature,
        max_tokens: this.config.maxTokens,
      });
      const content = completion.choices?.[0]?.message?.content;
      if (!content) throw fail(`response has no choices[0].message.content: ${excerpt(JSON.stringify(completion))}`);
      return content;
    } catch (err) {
      if (err instanceof TeacherRequestError) throw err;
      if (err instanceof OpenAI.APIConnectionTimeoutError) throw fail(`timed out after ${this.config.timeoutMs} ms (timeoutMs)`);
      if (err instanceof OpenAI.APIConnectionError) throw fail(`network error: ${describeNetworkError(err.cause ?? err)}`);
      if (err instanceof OpenAI.APIError && err.status !== undefined) {
        const line = `HTTP ${err.status}${trace.lastStatusText ? ` ${trace.lastStatusText}` : ''}`;
        throw fail(`${line}: ${excerpt(trace.lastBody ?? err.message)}`, err.status);
      }
      throw fail((err as Error).message ?? String(err));
    } finally {
      this.stats.retries += Math.max(0, trace.attempts - 1);
    }
  }
}
