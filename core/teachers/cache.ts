import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.ts';

/**
 * An on-disk cache of teacher responses: one JSON file per request, named by the SHA-256 of the
 * request's canonical JSON, so a re-run of the same job costs no API calls. Files are written
 * atomically (temp + rename), so a crash or two processes racing leave either no entry or a whole
 * one. An unreadable or foreign file is treated as a miss and overwritten on the next store —
 * a cache must never be the reason a run fails.
 */
export const CacheEntry = z
  .object({
    version: z.literal(1),
    key: z.string(),
    /** the request as hashed, kept so a person can see what produced the response */
    request: z.unknown(),
    response: z.string(),
    created: z.string(),
  })
  .strict();
export type CacheEntry = z.infer<typeof CacheEntry>;

/** Canonical JSON: object keys sorted at every level, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function cacheKey(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

export class ResponseCache {
  constructor(readonly dir: string) {}

  pathOf(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  get(key: string): string | undefined {
    let raw: string;
    try {
      raw = readFileSync(this.pathOf(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = CacheEntry.safeParse(JSON.parse(raw));
      return entry.success && entry.data.key === key ? entry.data.response : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, request: unknown, response: string): void {
    const entry: CacheEntry = { version: 1, key, request, response, created: new Date().toISOString() };
    writeFileAtomic(this.pathOf(key), JSON.stringify(entry, null, 2) + '\n');
  }
}
