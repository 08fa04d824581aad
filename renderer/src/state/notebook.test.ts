import { describe, expect, it } from 'vitest';
import type { AppEvent } from '../../../core/app/contract.ts';
import { newCodeCell, newNotebook, type Notebook } from '../../../core/kernel/nbformat.ts';
import { fromNotebook, reduce, toNotebook, type NotebookState } from './notebook.ts';

const V = { mtimeMs: 1, hash: 'h' };

function nb(): Notebook {
  const n = newNotebook([
    { cell_type: 'markdown', id: 'md', metadata: { custom: 1 }, source: ['# T'] },
    newCodeCell('const a = 1;', 'c1', ['parameters']),
    newCodeCell('a + 1', 'c2'),
  ]);
  return { ...n, metadata: { ...n.metadata, extra: { keep: true } }, something_else: 'kept' } as Notebook;
}

const ev = (e: AppEvent) => ({ type: 'event' as const, event: e });
const msg = (cell_id: string, message: Extract<AppEvent, { type: 'kernel.message' }>['message']) => ev({ type: 'kernel.message', path: 'x.ipynb', cell_id, message });

describe('notebook reducer (pure)', () => {
  it('round-trips a file: unknown fields and metadata survive, sources keep their text', () => {
    const s = fromNotebook('x.ipynb', nb(), V);
    const back = toNotebook(s);
    expect(back.something_else).toBe('kept');
    expect(back.metadata.extra).toEqual({ keep: true });
    expect(back.cells.map((c) => [c.id, c.cell_type, c.metadata])).toEqual([
      ['md', 'markdown', { custom: 1 }],
      ['c1', 'code', { tags: ['parameters'] }],
      ['c2', 'code', {}],
    ]);
    expect(back.cells[1].source).toEqual(['const a = 1;']);
    expect(back.nbformat).toBe(4);
    expect(back.nbformat_minor).toBe(5);
  });

  it('edits, inserts, moves, deletes and undoes a delete; each edit bumps the revision', () => {
    let s = fromNotebook('x.ipynb', nb(), V);
    s = reduce(s, { type: 'edit', id: 'c2', source: 'a + 2' });
    expect(s.dirty).toBe(true);
    expect(s.revision).toBe(1);
    s = reduce(s, { type: 'insert', at: 1, id: 'new', cellType: 'markdown' });
    expect(s.cells.map((c) => c.id)).toEqual(['md', 'new', 'c1', 'c2']);
    expect(s.selected).toBe(1);
    s = reduce(s, { type: 'move', index: 1, by: 1 });
    expect(s.cells.map((c) => c.id)).toEqual(['md', 'c1', 'new', 'c2']);
    s = reduce(s, { type: 'delete', index: 2 });
    expect(s.cells.map((c) => c.id)).toEqual(['md', 'c1', 'c2']);
    s = reduce(s, { type: 'undo-delete' });
    expect(s.cells.map((c) => c.id)).toEqual(['md', 'c1', 'new', 'c2']);
    expect(s.revision).toBe(5);
    s = reduce(s, { type: 'saved', version: { mtimeMs: 2, hash: 'h2' }, revision: 4 });
    expect(s.dirty).toBe(true); // an edit landed while that save was in flight
    s = reduce(s, { type: 'saved', version: { mtimeMs: 3, hash: 'h3' }, revision: 5 });
    expect(s.dirty).toBe(false);
  });

  it('follows a run: queued, running, streamed output, result, idle; an error marks its line', () => {
    let s: NotebookState = fromNotebook('x.ipynb', nb(), V);
    s = reduce(s, ev({ type: 'cell.queued', path: 'x.ipynb', cell_id: 'c2' }));
    expect(s.cells[2].run.phase).toBe('queued');
    s = reduce(s, msg('c2', { type: 'status', state: 'busy', msg_id: 'm1', execution_count: 7 }));
    expect(s.cells[2].run.phase).toBe('running');
    s = reduce(s, msg('c2', { type: 'stream', msg_id: 'm1', name: 'stdout', text: 'a\n' }));
    s = reduce(s, msg('c2', { type: 'stream', msg_id: 'm1', name: 'stdout', text: 'b\n' }));
    s = reduce(s, msg('c2', { type: 'execute_result', msg_id: 'm1', execution_count: 7, data: { 'text/plain': '2' }, metadata: {} }));
    s = reduce(s, msg('c2', { type: 'status', state: 'idle', msg_id: 'm1' }));
    expect(s.cells[2].run.phase).toBe('idle');
    expect(s.cells[2].run.execution_count).toBe(7);
    expect(s.cells[2].run.outputs).toEqual([
      { name: 'stdout', output_type: 'stream', text: ['a\n', 'b\n'] },
      { data: { 'text/plain': '2' }, execution_count: 7, metadata: {}, output_type: 'execute_result' },
    ]);
    // another execution's messages leave the cell alone
    s = reduce(s, msg('c2', { type: 'stream', msg_id: 'other', name: 'stdout', text: 'x' }));
    expect(s.cells[2].run.outputs).toHaveLength(2);
    s = reduce(s, ev({ type: 'cell.queued', path: 'x.ipynb', cell_id: 'c1' }));
    s = reduce(s, msg('c1', { type: 'status', state: 'busy', msg_id: 'm2', execution_count: 8 }));
    s = reduce(s, msg('c1', { type: 'error', msg_id: 'm2', ename: 'Error', evalue: 'x', traceback: [], line: 3 }));
    s = reduce(s, msg('c1', { type: 'status', state: 'idle', msg_id: 'm2' }));
    expect(s.cells[1].run.phase).toBe('error');
    expect(s.cells[1].errorLine).toBe(3);
    expect(toNotebook(s).cells[2]).toMatchObject({ execution_count: 7, outputs: [{ output_type: 'stream' }, { output_type: 'execute_result' }] });
  });

  it('an aborted cell says why; a dead kernel ends runs in flight; a change on disk asks the user', () => {
    let s = fromNotebook('x.ipynb', nb(), V);
    s = reduce(s, ev({ type: 'cell.queued', path: 'x.ipynb', cell_id: 'c1' }));
    s = reduce(s, ev({ type: 'cell.queued', path: 'x.ipynb', cell_id: 'c2' }));
    s = reduce(s, ev({ type: 'cell.aborted', path: 'x.ipynb', cell_id: 'c2', reason: 'cell c1 failed' }));
    expect(s.cells[2]).toMatchObject({ aborted: 'cell c1 failed', run: { phase: 'idle' } });
    s = reduce(s, msg('c1', { type: 'status', state: 'busy', msg_id: 'm9', execution_count: 1 }));
    s = reduce(s, ev({ type: 'kernel.state', path: 'x.ipynb', state: 'dead', reason: 'exit 1' }));
    expect(s.kernel).toBe('dead');
    s = reduce(s, msg('c1', { type: 'error', msg_id: 'm9', ename: 'KernelDied', evalue: 'exit 1', traceback: [] }));
    s = reduce(s, msg('c1', { type: 'status', state: 'idle', msg_id: 'm9' }));
    expect(s.cells[1].run).toMatchObject({ phase: 'error', outputs: [{ ename: 'KernelDied' }] });
    s = reduce(s, ev({ type: 'file.changed', path: 'x.ipynb', version: { mtimeMs: 9, hash: 'other' } }));
    expect(s.conflict?.message).toMatch(/changed on disk/);
    expect(reduce(s, ev({ type: 'file.changed', path: 'other.ipynb', version: null }))).toBe(s);
  });
});
