import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferIO as capture } from '../../test/helpers/io.ts';
import { main } from '../cli/main.ts';
import { repoRoot } from '../util/paths.ts';
import { newCodeCell, newNotebook, readNotebook, serializeNotebook, sourceText, type CodeCell, type Notebook } from './notebook.ts';
import { injectParameters, parseParameter } from './run-notebook.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'lref-run-'));
const write = (dir: string, name: string, nb: Notebook) => {
  const p = join(dir, name);
  writeFileSync(p, serializeNotebook(nb));
  return p;
};
const textOf = (o: unknown) => {
  const out = o as { text?: string | string[]; data?: Record<string, unknown> };
  return out.text !== undefined ? sourceText(out.text) : String(out.data?.['text/plain']);
};

describe('parameters', () => {
  it('parses values as JSON when they parse, else as strings', () => {
    expect(parseParameter('n=5')).toEqual(['n', 5]);
    expect(parseParameter('flag=true')).toEqual(['flag', true]);
    expect(parseParameter('xs=[1,2]')).toEqual(['xs', [1, 2]]);
    expect(parseParameter('name=hello world')).toEqual(['name', 'hello world']);
    expect(parseParameter('eq=a=b')).toEqual(['eq', 'a=b']);
    expect(() => parseParameter('2x=1')).toThrow(/not a valid variable name/);
    expect(() => parseParameter('novalue')).toThrow(/name=value/);
  });

  it('injects a tagged cell right after the parameters cell, replacing an old one', () => {
    const nb = newNotebook([newCodeCell('1', 'a'), newCodeCell('const n = 1;', 'p', ['parameters']), newCodeCell('n', 'b')]);
    const once = injectParameters(nb, { n: 2, s: 'x' });
    expect(once.at).toBe(2);
    expect(once.notebook.cells.map((c) => c.id)).toEqual(['a', 'p', 'injected-parameters', 'b']);
    expect(once.notebook.cells[2].metadata).toEqual({ tags: ['injected-parameters'] });
    expect(sourceText(once.notebook.cells[2].source)).toBe('// Parameters injected by lref run\nconst n = 2;\nconst s = "x";');
    const twice = injectParameters(once.notebook, { n: 3 });
    expect(twice.notebook.cells.map((c) => c.id)).toEqual(['a', 'p', 'injected-parameters', 'b']);
    expect(sourceText(twice.notebook.cells[2].source)).toContain('const n = 3;');
    expect(injectParameters(newNotebook([newCodeCell('1', 'a')]), { n: 1 }).at).toBe(0);
  });
});

describe('lref run', () => {
  it('runs notebooks/hello.ipynb with -p values and writes outputs and execution counts', async () => {
    const dir = tmp();
    const out = join(dir, 'hello.executed.ipynb');
    const io = capture();
    const code = await main(['run', join(repoRoot(), 'notebooks/hello.ipynb'), '-p', 'n=4', '-p', 'name=world', '--out', out], io);
    expect(io.stderr.join('\n')).not.toMatch(/error/);
    expect(code).toBe(0);
    const nb = readNotebook(out);
    const code_cells = nb.cells.filter((c): c is CodeCell => c.cell_type === 'code');
    expect(code_cells.map((c) => c.execution_count)).toEqual([1, 2, 3, 4]);
    expect(code_cells[1].metadata).toEqual({ tags: ['injected-parameters'] });
    expect(textOf(code_cells[2].outputs[0])).toBe('hello, world\n');
    expect(Object.keys((code_cells[2].outputs[1] as { data: object }).data)).toEqual(['application/vnd.lref.table+json', 'text/plain']);
    expect(textOf(code_cells[3].outputs[0])).toBe('30'); // 1 + 4 + 9 + 16
    expect(nb.metadata.kernelspec).toEqual({ display_name: 'TypeScript (LREF)', language: 'typescript', name: 'lref-typescript' });
    expect(io.stdout.join('\n')).toMatch(/^ran 4 code cells in .* → .*hello\.executed\.ipynb$/);
  });

  it('stops at a throwing cell: exit 1, names cell and line, saves the outputs so far', async () => {
    const dir = tmp();
    const nb = newNotebook([
      newCodeCell('console.log("first");', 'c0'),
      { cell_type: 'markdown', id: 'md', metadata: {}, source: 'text' },
      newCodeCell('const a = 1;\n\nthrow new Error("boom " + a);', 'c2'),
      newCodeCell('console.log("never");', 'c3'),
    ]);
    const input = write(dir, 'fail.ipynb', nb);
    const io = capture();
    expect(await main(['run', input], io)).toBe(1);
    expect(io.stderr).toContain(`error in cell 2, line 3 of ${input}: Error: boom 1`);
    const saved = readNotebook(join(dir, 'fail.out.ipynb')); // the documented default beside the input
    const [c0, , c2, c3] = saved.cells as CodeCell[];
    expect(textOf(c0.outputs[0])).toBe('first\n');
    expect(c2.outputs).toEqual([{ ename: 'Error', evalue: 'boom 1', output_type: 'error', traceback: ['Error: boom 1', '  at (cell 2, line 3)\n      throw new Error("boom " + a);'] }]);
    expect([c3.execution_count, c3.outputs]).toEqual([null, []]);
    expect((saved.metadata.lref_run as { status: string; failed_cell: number }).failed_cell).toBe(2);
  });

  it('--json prints one summary; --timeout stops a runaway cell', async () => {
    // 2 s, not less: under a loaded machine the trivial first cell alone took over 0.3 s
    const dir = tmp();
    const input = write(dir, 'spin.ipynb', newNotebook([newCodeCell('let i = 0;', 'a'), newCodeCell('while (true) { i++ }', 'b')]));
    const io = capture();
    expect(await main(['run', input, '--timeout', '2', '--json'], io)).toBe(1);
    expect(io.stdout).toHaveLength(1);
    const summary = JSON.parse(io.stdout[0]);
    expect(summary).toMatchObject({ ok: false, cells_executed: 2, failure: { cell: 1, ename: 'Timeout' } });
    expect(summary.failure.evalue).toMatch(/longer than --timeout 2 s/);
  });

  it('writes the output atomically: every read during the run parses, no temp files remain', async () => {
    const dir = tmp();
    const cells = [0, 1, 2, 3].map((i) => newCodeCell(`console.log("x".repeat(20000));\nawait new Promise((r) => setTimeout(r, 120));\n${i}`, `c${i}`));
    const input = write(dir, 'slow.ipynb', newNotebook(cells));
    const out = join(dir, 'slow.out.ipynb');
    let reads = 0;
    let broken = 0;
    const poll = setInterval(() => {
      if (!existsSync(out)) return;
      reads++;
      try {
        JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        broken++;
      }
    }, 5);
    const code = await main(['run', input], capture());
    clearInterval(poll);
    expect(code).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(broken).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['slow.ipynb', 'slow.out.ipynb']);
  });

  it('rejects a missing notebook and a broken one with file-named errors', async () => {
    const dir = tmp();
    const io = capture();
    expect(await main(['run', join(dir, 'nope.ipynb')], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/nope\.ipynb: no such notebook/);
    const bad = join(dir, 'bad.ipynb');
    writeFileSync(bad, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', source: 1 }] }));
    const io2 = capture();
    expect(await main(['run', bad], io2)).toBe(2);
    expect(io2.stderr[0]).toMatch(/bad\.ipynb: not a valid nbformat 4 notebook at cells\[0\]/);
  });
});
