import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/command.ts';
import { PairRecord } from '../schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'lref-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, isTTY: false };
  return { cli, out, err };
}

describe('lref data synth', () => {
  it('writes a valid JSONL file and prints a summary', async () => {
    const file = join(dir, 'a.jsonl');
    const { cli, out } = io();
    expect(await main(['data', 'synth', '--out', file, '--pairs', '300', '--seed', '3', '--noise', '0.1'], cli)).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(300);
    for (const l of lines) expect(PairRecord.safeParse(JSON.parse(l)).success).toBe(true);
    expect(out[0]).toMatch(/^wrote 300 pairs \(\d+ queries, \d+ products\)/);
    expect(out[1]).toMatch(/label mix: Exact \d+/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints one JSON summary with --json, and the same seed writes the same bytes', async () => {
    const a = join(dir, 'b1.jsonl');
    const b = join(dir, 'b2.jsonl');
    const r1 = io();
    expect(await main(['data', 'synth', '--out', a, '--pairs', '200', '--json'], r1.cli)).toBe(0);
    expect(await main(['data', 'synth', '--out', b, '--pairs', '200', '--json'], io().cli)).toBe(0);
    const s = JSON.parse(r1.out[0]);
    expect(s.pairs).toBe(200);
    expect(Object.values(s.labels as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(200);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });

  it.each([
    [['--pairs', '0'], /--pairs must be an integer/],
    [['--noise', '2'], /--noise must be a number in \[0, 1\]/],
    [['--pairs', 'ten'], /--pairs/],
    [['--seed', '-1'], /--seed/],
  ])('rejects %j with a clear error, non-zero exit and no file', async (flags, message) => {
    const file = join(dir, `bad-${flags.join('')}.jsonl`);
    const { cli, err } = io();
    expect(await main(['data', 'synth', '--out', file, ...flags], cli)).not.toBe(0);
    expect(err.join('\n')).toMatch(message);
    expect(existsSync(file)).toBe(false);
  });

  it('requires --out', async () => {
    const { cli, err } = io();
    expect(await main(['data', 'synth', '--pairs', '10'], cli)).not.toBe(0);
    expect(err.join('\n')).toMatch(/--out is required/);
  });
});
