import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppFailure } from './contract.ts';
import { Workspace } from './workspace.ts';

function workspace() {
  const outside = mkdtempSync(join(tmpdir(), 'lref-outside-'));
  writeFileSync(join(outside, 'secret.ipynb'), '{}');
  const root = mkdtempSync(join(tmpdir(), 'lref-ws-'));
  mkdirSync(join(root, 'notebooks'));
  writeFileSync(join(root, 'notebooks', 'a.ipynb'), '{"x":1}');
  mkdirSync(join(root, 'runs', 'r1'), { recursive: true });
  writeFileSync(join(root, 'runs', 'r1', 'run.json'), '{}');
  symlinkSync(outside, join(root, 'escape'));
  symlinkSync(join(outside, 'secret.ipynb'), join(root, 'notebooks', 'link.ipynb'));
  return { ws: new Workspace(root), root, outside };
}

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppFailure);
    expect((e as AppFailure).code).toBe('forbidden');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('Workspace: file access only inside the workspace', () => {
  it('refuses .., absolute paths and symlinks that lead out, naming the path', () => {
    const { ws, outside } = workspace();
    expect(refused(() => ws.resolve('../x.ipynb'))).toMatch(/"\.\." is refused/);
    expect(refused(() => ws.resolve('notebooks/../../x.ipynb'))).toMatch(/\.\./);
    expect(refused(() => ws.resolve(join(outside, 'secret.ipynb')))).toMatch(/absolute paths are refused/);
    expect(refused(() => ws.resolve('escape/secret.ipynb'))).toMatch(/symlink/);
    expect(refused(() => ws.resolve('escape/new.ipynb'))).toMatch(/symlink/);
    expect(refused(() => ws.readText('notebooks/link.ipynb'))).toMatch(/symlink/);
    expect(refused(() => ws.resolve('a\0b'))).toMatch(/NUL/);
    expect(ws.resolve('notebooks/a.ipynb')).toBe(join(ws.root, 'notebooks', 'a.ipynb'));
  });

  it('lists notebooks and run folders, not what a symlink leads to outside', () => {
    const { ws } = workspace();
    const tree = ws.tree();
    expect(tree.map((e) => [e.path, e.kind])).toEqual([
      ['notebooks', 'dir'],
      ['runs', 'dir'],
    ]);
    expect(tree[0].children!.map((e) => e.path)).toEqual(['notebooks/a.ipynb']);
    expect(tree[1].children!.map((e) => [e.path, e.kind])).toEqual([['runs/r1', 'run']]);
  });

  it('a save over a file changed on disk is a conflict; force overwrites; the write is whole', () => {
    const { ws, root } = workspace();
    const { version } = ws.readText('notebooks/a.ipynb');
    writeFileSync(join(root, 'notebooks', 'a.ipynb'), '{"x":2}'); // another editor saved
    expect(() => ws.writeText('notebooks/a.ipynb', '{"x":3}', version)).toThrow(/changed on disk/);
    expect(readFileSync(join(root, 'notebooks', 'a.ipynb'), 'utf8')).toBe('{"x":2}');
    const v2 = ws.writeText('notebooks/a.ipynb', '{"x":3}', 'any');
    expect(ws.writeText('notebooks/a.ipynb', '{"x":4}', v2).hash).not.toBe(v2.hash);
    expect(() => ws.writeText('notebooks/a.ipynb', '{}', null, true)).toThrow(/already exists/);
  });
});
