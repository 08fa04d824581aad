import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { maskJs } from './js-mask.ts';
import { CellSyntaxError, rewriteTopLevel, transpileCell } from './transpile.ts';

/** Runs transpiled cells one after another in one fresh context, like the kernel does in its realm. */
function contextRunner(modules: Record<string, unknown> = {}) {
  const ctx = vm.createContext({ __lref: { import: async (s: string) => modules[s] }, setTimeout });
  return async (src: string) => {
    const cell = await transpileCell(src);
    return { value: await new vm.Script(cell.script).runInContext(ctx), ctx, cell };
  };
}

describe('maskJs', () => {
  it('blanks strings, comments, regexes and template text but keeps offsets and holes', () => {
    const src = 'a = "x;{" + `t ${b + "}"} u` // c {\nr = /[/]{2}/g.test(s) / 2;';
    const m = maskJs(src);
    expect(m.length).toBe(src.length);
    expect(m).toBe('a =       +     (b +    )          \nr = r        .test(s) / 2;');
  });
});

describe('transpileCell', () => {
  it('keeps top-level const/let/function/class/enum/destructuring across cells and re-running', async () => {
    const run = contextRunner();
    await run('const a: number = 1, { b, c: [d = 4] } = { b: 2, c: [] as number[] };\nlet e;\nfunction f(x: number) { return x * 10 }\nclass K { v = 5 }\nenum E { A, B }');
    const { value } = await run('[a, b, d, e, f(2), new K().v, E.B, E[1]]');
    expect(value).toEqual([1, 2, 4, undefined, 20, 5, 1, 'B']);
    // re-declaring in a later cell is a reassignment, not a SyntaxError
    expect((await run('const a = 7;\na + 1')).value).toBe(8);
  });

  it('supports top-level await and returns the last expression (not a declaration)', async () => {
    const run = contextRunner();
    expect((await run('const v = await new Promise<number>((r) => setTimeout(() => r(3), 1));\nv * 2')).value).toBe(6);
    expect((await run('const w = 1;')).value).toBeUndefined();
    expect((await run('if (w) { 5 }')).value).toBeUndefined();
  });

  it('rewrites static and dynamic imports to the kernel resolver', async () => {
    const run = contextRunner({ lref: { default: 'D', LREF5: { id: 'lref5' }, other: 9 }, m: { z: 1 } });
    await run("import D, { LREF5, other as o } from 'lref';\nimport * as ns from 'm';\nconst dyn = await import('m');");
    expect((await run('[D, LREF5.id, o, ns.z, dyn.z]')).value).toEqual(['D', 'lref5', 9, 1, 1]);
    // an import used only by later cells must survive TypeScript's unused-import elision
    const { cell } = await run("import { unusedHere } from 'lref';");
    expect(cell.script).toContain('__lref.import("lref")');
  });

  it('maps script lines back to cell lines', async () => {
    const src = "import { x } from 'm';\n\ninterface T { a: number }\nconst y = 1;\nfunction g() {\n  throw new Error('g');\n}\ng()";
    const cell = await transpileCell(src);
    const scriptLines = cell.script.split('\n');
    const throwAt = scriptLines.findIndex((l) => l.includes("throw new Error"));
    expect(cell.scriptLineToCell[throwAt + 1]).toBe(6);
    const callAt = scriptLines.findIndex((l) => l.includes('return (g())'));
    expect(cell.scriptLineToCell[callAt + 1]).toBe(8);
  });

  it('reports syntax errors at the cell line and column', async () => {
    const err = await transpileCell('const ok = 1;\nconst bad = ;').catch((e) => e);
    expect(err).toBeInstanceOf(CellSyntaxError);
    expect([err.line, err.column, err.message]).toEqual([2, 12, 'Unexpected ";"']);
  });

  it('leaves nested declarations and loops alone', () => {
    const { body, prologue } = rewriteTopLevel('for (let i = 0; i < 3; i++) {\n  const t = i;\n}\n');
    expect(body).toBe('for (let i = 0; i < 3; i++) {\n  const t = i;\n}\n');
    expect(prologue).toBe('');
  });
});
