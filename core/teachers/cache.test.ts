import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, ResponseCache } from './cache.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lref-rcache-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ResponseCache', () => {
  it('keys by content, not by key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}');
    expect(cacheKey({ model: 'm', temperature: 0 })).toBe(cacheKey({ temperature: 0, model: 'm' }));
    expect(cacheKey({ model: 'm', temperature: 0 })).not.toBe(cacheKey({ model: 'm', temperature: 0.1 }));
    expect(cacheKey({ x: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores one JSON file per key, reads it back, and misses on unknown keys', () => {
    const dir = tempDir();
    const cache = new ResponseCache(join(dir, 'nested'));
    const request = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const key = cacheKey(request);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, request, 'hello there');
    expect(cache.get(key)).toBe('hello there');
    expect(readdirSync(join(dir, 'nested'))).toEqual([`${key}.json`]); // no temp files left behind
    const entry = JSON.parse(readFileSync(cache.pathOf(key), 'utf8'));
    expect(entry).toMatchObject({ version: 1, key, request, response: 'hello there' });
  });

  it('treats a corrupt or mismatched file as a miss and overwrites it', () => {
    const cache = new ResponseCache(tempDir());
    const key = cacheKey({ a: 1 });
    writeFileSync(cache.pathOf(key), '{"version": 1, "key": "');
    expect(cache.get(key)).toBeUndefined();
    writeFileSync(cache.pathOf(key), JSON.stringify({ version: 1, key: 'other', request: {}, response: 'x', created: '' }));
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, { a: 1 }, 'fresh');
    expect(cache.get(key)).toBe('fresh');
  });
});
