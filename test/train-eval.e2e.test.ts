import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../core/cli/main.ts';
import { bufferIO } from './helpers/io.ts';

/**
 * `lref data synth` → `lref train` → `lref eval`, in-process, as a user runs them (smoke preset and
 * few steps: this checks the commands, their files and their errors; learning quality is measured
 * by the documented 300-step tiny run and the pipeline benchmarks, not by a unit test).
 */
const root = mkdtempSync(join(tmpdir(), 'lref-train-e2e-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 's.jsonl');
const model = join(root, 'm');

describe('lref train / lref eval', () => {
  it('trains, writes a loadable checkpoint and metrics.json, and eval reproduces the held-out numbers', async () => {
    expect(await main(['data', 'synth', '--out', data, '--pairs', '600', '--seed', '3'], bufferIO())).toBe(0);
    const io = bufferIO();
    const code = await main(['train', '--data', data, '--preset', 'smoke', '--steps', '30', '--backend', 'wasm', '--out', model, '--json'], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const line = JSON.parse(io.stdout.at(-1)!);
    expect(line.backend).toBe('wasm');
    expect(line.loss_last10).toBeLessThan(line.loss_first10);
    for (const f of ['checkpoint.json', 'weights.bin', 'optimizer.bin', 'tokenizer.json', 'lref-model.json', 'metrics.json']) {
      expect(existsSync(join(model, f))).toBe(true);
    }
    expect(readdirSync(model).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const metrics = JSON.parse(readFileSync(join(model, 'metrics.json'), 'utf8'));
    expect(metrics.variants.map((v: { name: string }) => v.name)).toEqual(['sft', 'majority']);
    expect(metrics.valid_variants.map((v: { name: string; n: number }) => [v.name, v.n])).toEqual([['sft', metrics.split.valid], ['majority', metrics.split.valid]]);
    expect(line.valid_macro_f1).toBeCloseTo(metrics.valid_variants[0].macro_f1, 4);
    expect(metrics.loss.trace).toHaveLength(30);
    expect(metrics.split.train + metrics.split.valid + metrics.split.test).toBe(600);

    // eval on the same held-out split gives the numbers train recorded
    const ev = bufferIO();
    expect(await main(['eval', '--model', model, '--data', data, '--split', 'test', '--seed', '1', '--backend', 'wasm', '--json'], ev)).toBe(0);
    const rec = JSON.parse(ev.stdout.at(-1)!);
    expect(rec.n).toBe(metrics.split.test);
    expect(rec.accuracy).toBeCloseTo(metrics.variants[0].accuracy, 10);
    expect(rec.macro_f1).toBeCloseTo(metrics.variants[0].macro_f1, 10);

    // reported in ESCI-4 through the documented mapping
    const esci = bufferIO();
    expect(await main(['eval', '--model', model, '--data', data, '--labels', 'esci4', '--backend', 'wasm', '--json'], esci)).toBe(0);
    expect(JSON.parse(esci.stdout.at(-1)!).labels).toEqual(['E', 'S', 'C', 'I']);
  });

  it('rejects bad input with a message naming the file and line, a non-zero exit and no output folder', async () => {
    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, readFileSync(data, 'utf8').split('\n').slice(0, 3).join('\n') + '\n{"pair_id": 7}\n');
    const io = bufferIO();
    const out = join(root, 'never');
    expect(await main(['train', '--data', bad, '--preset', 'smoke', '--steps', '5', '--out', out], io)).not.toBe(0);
    expect(io.stderr.join('\n')).toMatch(/bad\.jsonl:4/);
    expect(existsSync(out)).toBe(false);

    const missing = bufferIO();
    expect(await main(['train', '--preset', 'smoke', '--out', out], missing)).not.toBe(0);
    expect(missing.stderr.join('\n')).toMatch(/--data is required/);

    const noModel = bufferIO();
    expect(await main(['eval', '--model', join(root, 'nope'), '--data', data], noModel)).not.toBe(0);
    expect(noModel.stderr.join('\n')).toMatch(/not a model folder/);
  });
});
