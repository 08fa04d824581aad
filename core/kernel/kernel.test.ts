import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type ExecutionOutcome } from './kernel.ts';
import { MIME } from './display.ts';

// One kernel process for the whole file (starting one costs ~0.7 s); tests run in order and
// build on each other's state where they say so.
let k: Kernel;
const dir = mkdtempSync(join(tmpdir(), 'lref-kernel-'));

beforeAll(async () => {
  writeFileSync(join(dir, 'helper.ts'), 'export const triple = (x: number): number => x * 3;\n');
  k = await Kernel.start({ cwd: dir });
});
afterAll(async () => {
  await k.shutdown();
});

const result = (o: ExecutionOutcome) => o.messages.find((m) => m.type === 'execute_result');
const plain = (o: ExecutionOutcome) => (result(o) as { data: Record<string, unknown> } | undefined)?.data['text/plain'];
const streams = (o: ExecutionOutcome) => o.messages.flatMap((m) => (m.type === 'stream' ? [`${m.name}:${m.text}`] : []));

describe('kernel', () => {
  it('keeps variables, functions, classes and imports across cells', async () => {
    const first = await k.execute("import { LREF5 } from 'lref';\nimport { triple } from './helper.ts';\nconst base: number = 2;\nfunction add(a: number) { return a + base }\nclass Box { constructor(public v: number) {} }");
    expect(first.status).toBe('ok');
    const second = await k.execute('new Box(add(triple(base))).v + LREF5.labels.length');
    expect(plain(second)).toBe('13'); // triple(2) = 6, + 2 = 8, + 5 labels
    expect(second.execution_count).toBe(2);
  });

  it('puts the lref prelude in scope without an import', async () => {
    expect(plain(await k.execute('[getScheme("wands3").labels.length, typeof Rng]'))).toBe("[ 3, 'function' ]");
  });

  it('supports top-level await', async () => {
    const o = await k.execute('const v = await new Promise<number>((r) => setTimeout(() => r(21), 20));\nv * 2');
    expect(plain(o)).toBe('42');
  });

  it('captures console.log and console.error as stdout and stderr streams', async () => {
    const o = await k.execute('console.log("out", 1);\nprocess.stdout.write("raw\\n");\nconsole.error("err");');
    expect(streams(o)).toEqual(['stdout:out 1\nraw\n', 'stderr:err\n']);
    expect(result(o)).toBeUndefined();
  });

  it('reports an error with the cell name and the line in the cell', async () => {
    const o = await k.execute('const ok = 1;\n\nfunction fail(n: number): never {\n  throw new RangeError(`bad ${n}`);\n}\nfail(ok);', { cell_name: 'cell 7' });
    expect(o.status).toBe('error');
    expect(o.error).toMatchObject({ ename: 'RangeError', evalue: 'bad 1', line: 4 });
    expect(o.error!.traceback[0]).toBe('RangeError: bad 1');
    expect(o.error!.traceback[1]).toBe('  at fail (cell 7, line 4)\n      throw new RangeError(`bad ${n}`);');
    expect(o.error!.traceback[2]).toBe('  at (cell 7, line 6)\n      fail(ok);');
  });

  it('emits display MIME bundles and live progress updates', async () => {
    const o = await k.execute(
      'display.table([{ a: 1 }]);\ndisplay.confusion([[1, 0], [0, 1]], ["x", "y"]);\nconst p = display.progress(3, "steps", 0);\nfor (let s = 1; s <= 3; s++) { await kernel.sleep(5); p.update(s); }',
    );
    const shown = o.messages.filter((m) => m.type === 'display_data');
    expect(shown.map((m) => Object.keys(m.data).sort())).toEqual([
      [MIME.table, 'text/plain'],
      [MIME.confusion, 'text/plain'],
      [MIME.progress, 'text/plain'],
    ]);
    const updates = o.messages.filter((m) => m.type === 'update_display_data');
    expect(updates.map((m) => (m.data[MIME.progress] as { done: number }).done)).toEqual([1, 2, 3]);
    expect(new Set(updates.map((m) => m.display_id))).toEqual(new Set([shown[2].display_id]));
  });

  it('interrupts while(true){} within a second and keeps its state', async () => {
    const running = k.execute('let spins = 0;\nwhile (true) { spins++; }');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    expect(await k.interrupt()).toBe('interrupted');
    const o = await running;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(o.error).toMatchObject({ ename: 'Interrupted' });
    // the same process: state from earlier cells is still there
    expect(plain(await k.execute('[base, spins > 0]'))).toBe('[ 2, true ]');
  });

  it('interrupts an async loop through kernel.signal', async () => {
    const running = k.execute('let steps = 0;\nwhile (!kernel.signal.aborted) { steps++; await new Promise((r) => setTimeout(r, 5)); }\nkernel.check();');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    expect(await k.interrupt()).toBe('interrupted');
    expect((await running).error?.ename).toBe('Interrupted');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(plain(await k.execute('steps > 5'))).toBe('true');
  });

  it('restarts a cell that ignores the interrupt after an await, within a second', async () => {
    const gen = k.generation;
    const running = k.execute('await kernel.sleep(1);\nwhile (true) {}');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const how = k.interrupt();
    // the cell ends when the process is killed; the respawn that follows may take longer on a busy machine
    expect((await running).error?.ename).toBe('KernelRestarted');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await how).toBe('restarted');
    expect(k.generation).toBe(gen + 1);
    expect(plain(await k.execute('typeof base'))).toBe('undefined');
  });

  it('restart gives a fresh context', async () => {
    await k.execute('const marker = "before";');
    expect(plain(await k.execute('marker'))).toBe('before');
    await k.restart();
    expect(plain(await k.execute('typeof marker'))).toBe('undefined');
    expect((await k.execute('1')).execution_count).toBe(2);
  });
});
