import { describe, expect, it } from 'vitest';
import { idleCell, transitionCell, type CellRun } from './cell-state.ts';
import type { KernelMessage } from './protocol.ts';
import type { Queued } from './cell-state.ts';

const run = (cell: CellRun, msgs: (KernelMessage | Queued)[]) => msgs.reduce(transitionCell, cell);

describe('transitionCell', () => {
  it('a cell queued before its execution has an id follows the first execution it hears of, and only that one', () => {
    const cell = run(idleCell([{ name: 'stdout', output_type: 'stream', text: ['old\n'] }], 3), [
      { type: 'queued' },
      { type: 'status', state: 'busy', msg_id: 'm7', execution_count: 5 },
      { type: 'stream', msg_id: 'other', name: 'stdout', text: 'not mine\n' },
      { type: 'stream', msg_id: 'm7', name: 'stdout', text: 'mine\n' },
    ]);
    expect(cell).toMatchObject({ phase: 'running', msg_id: 'm7', execution_count: 5, outputs: [{ output_type: 'stream', text: ['mine\n'] }] });
    // an idle cell adopts nothing
    expect(transitionCell(idleCell(), { type: 'stream', msg_id: 'x', name: 'stdout', text: 'y' })).toEqual(idleCell());
  });

  it('goes idle → queued → running → idle and collects outputs in order', () => {
    const old = idleCell([{ name: 'stdout', output_type: 'stream', text: ['old\n'] }], 3);
    const states: string[] = [];
    let cell = old;
    for (const m of [
      { type: 'queued', msg_id: 'm1' },
      { type: 'status', state: 'busy', msg_id: 'm1', execution_count: 4 },
      { type: 'stream', msg_id: 'm1', name: 'stdout', text: 'a\nb' },
      { type: 'stream', msg_id: 'm1', name: 'stdout', text: 'c\n' },
      { type: 'stream', msg_id: 'm1', name: 'stderr', text: 'warn\n' },
      { type: 'display_data', msg_id: 'm1', data: { 'text/plain': '[....] 0/2' }, metadata: {}, display_id: 'p1' },
      { type: 'update_display_data', msg_id: 'm1', data: { 'text/plain': '[##..] 1/2' }, metadata: {}, display_id: 'p1' },
      { type: 'execute_result', msg_id: 'm1', execution_count: 4, data: { 'text/plain': '42' }, metadata: {} },
      { type: 'status', state: 'idle', msg_id: 'm1', execution_count: 4 },
    ] as (KernelMessage | Queued)[]) {
      cell = transitionCell(cell, m);
      states.push(cell.phase);
    }
    expect(states).toEqual(['queued', 'running', 'running', 'running', 'running', 'running', 'running', 'running', 'idle']);
    expect(cell).toEqual({
      phase: 'idle',
      msg_id: undefined,
      execution_count: 4,
      displays: { p1: [2] },
      outputs: [
        { name: 'stdout', output_type: 'stream', text: ['a\n', 'bc\n'] },
        { name: 'stderr', output_type: 'stream', text: ['warn\n'] },
        { data: { 'text/plain': '[##..] 1/2' }, metadata: {}, output_type: 'display_data' },
        { data: { 'text/plain': '42' }, execution_count: 4, metadata: {}, output_type: 'execute_result' },
      ],
    });
    expect(old.outputs).toHaveLength(1); // pure: the input cell is untouched
  });

  it('ends in error after an error message, and ignores other executions', () => {
    const cell = run(idleCell(), [
      { type: 'queued', msg_id: 'm2' },
      { type: 'status', state: 'busy', msg_id: 'm2', execution_count: 1 },
      { type: 'stream', msg_id: 'other', name: 'stdout', text: 'not mine\n' },
      { type: 'error', msg_id: 'm2', ename: 'Error', evalue: 'boom', traceback: ['Error: boom'], line: 2 },
      { type: 'status', state: 'idle', msg_id: 'm2' },
    ]);
    expect(cell.phase).toBe('error');
    expect(cell.outputs).toEqual([{ ename: 'Error', evalue: 'boom', output_type: 'error', traceback: ['Error: boom'] }]);
  });

  it('a kernel death while running is an error', () => {
    const cell = run(idleCell(), [
      { type: 'queued', msg_id: 'm3' },
      { type: 'status', state: 'busy', msg_id: 'm3', execution_count: 1 },
      { type: 'status', state: 'dead', msg_id: 'm3' },
    ]);
    expect(cell.phase).toBe('error');
  });

  it('an update for an unknown display id changes nothing', () => {
    const before = run(idleCell(), [{ type: 'queued', msg_id: 'm4' }]);
    const after = transitionCell(before, { type: 'update_display_data', msg_id: 'm4', data: {}, metadata: {}, display_id: 'nope' });
    expect(after).toBe(before);
  });
});
