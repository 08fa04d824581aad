import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { exportBundle } from '../export/bundle.ts';
import { readRun } from '../runs/store.ts';
import { BundleJudge } from '../serve/judge.ts';
import { startServer, type RunningServer } from '../serve/server.ts';
import { writeTinyRun } from '../../test/helpers/tiny-run.ts';
import { bufferIO } from '../../test/helpers/io.ts';

/**
 * `lref judge` against `lref serve` serving the run's own sft_all model: the endpoint's column must
 * equal sft_all's, pair for pair (the same model asked through the chat API and its line format).
 */

const root = mkdtempSync(join(tmpdir(), 'lref-judge-'));
const run = join(root, 'run');
let served: RunningServer;
let judge: BundleJudge;

beforeAll(async () => {
  await writeTinyRun(run, { steps: 20 });
  await exportBundle(run, { variant: 'sft_all', out: join(root, 'bundle') });
  judge = BundleJudge.load(join(root, 'bundle'));
  served = await startServer(judge, { port: 0 });
});
afterAll(async () => {
  await served.close();
  judge.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('lref judge', () => {
  it('grades the run\'s test pairs through an OpenAI-compatible endpoint and joins them as a variant', async () => {
    const io = bufferIO();
    const code = await main(['judge', run, '--base-url', `${served.url}/v1`, '--model', judge.name, '--api-key-env', '', '--name', 'served', '--json'], io);
    expect(io.stderr.join('\n')).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout[0])).toMatchObject({ name: 'served', missing: 0, unreadable: 0 });
    const after = readRun(run);
    expect(after.run.external?.served).toMatchObject({ kind: 'endpoint', source: `${served.url}/v1`, model: judge.name, template: 'zero-shot-v1' });
    const column = (v: string) => after.predictions.filter((p) => p.variant === v).map((p) => p.label);
    expect(column('served')).toEqual(column('sft_all'));
    const m = (v: string) => after.metrics.variants.find((x) => x.name === v)!;
    expect(m('served').macro_f1).toBe(m('sft_all').macro_f1);
  });

  it('an answer that names no grade is counted as an error, never guessed', async () => {
    const fake = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Hard to say.' }, finish_reason: 'stop' }] }));
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const io = bufferIO();
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
      expect(await main(['judge', run, '--base-url', url, '--model', 'm', '--api-key-env', '', '--name', 'shrug', '--json'], io)).toBe(0);
      const n = readRun(run).pairs.length;
      expect(JSON.parse(io.stdout[0])).toMatchObject({ unreadable: n, accuracy: 0 });
    } finally {
      fake.closeAllConnections();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
