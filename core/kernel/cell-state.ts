import type { KernelMessage } from './protocol.ts';
import type { Output } from './nbformat.ts';
import { splitLines } from './nbformat.ts';

/**
 * A code cell's life as a pure reducer: idle → queued → running → idle | error.
 * The host feeds it the kernel's messages; the UI and `lref run` keep the resulting outputs.
 * Messages for another execution (a different msg_id) leave the cell unchanged.
 */
export type CellPhase = 'idle' | 'queued' | 'running' | 'error';

export interface CellRun {
  phase: CellPhase;
  /** the execution this cell waits for or runs; undefined when it has none */
  msg_id?: string;
  execution_count: number | null;
  outputs: Output[];
  /** display_id → indexes into outputs, so update_display_data replaces in place */
  displays: Record<string, number[]>;
}

/**
 * The host's own event: the cell was sent to the kernel and waits its turn. A host that queues cells
 * itself (the app) knows no msg_id yet: the cell then follows the first execution it hears of.
 */
export interface Queued {
  type: 'queued';
  msg_id?: string;
}

export function idleCell(outputs: Output[] = [], execution_count: number | null = null): CellRun {
  return { phase: 'idle', execution_count, outputs, displays: {} };
}

export function transitionCell(cell: CellRun, msg: KernelMessage | Queued): CellRun {
  if (msg.type === 'queued') {
    // A fresh run clears old outputs now, as Jupyter does, so stale results never sit beside new ones.
    return { phase: 'queued', msg_id: msg.msg_id, execution_count: null, outputs: [], displays: {} };
  }
  if (!('msg_id' in msg)) return cell;
  if (cell.phase === 'queued' && cell.msg_id === undefined && msg.msg_id) cell = { ...cell, msg_id: msg.msg_id };
  if (msg.msg_id !== cell.msg_id) return cell;
  switch (msg.type) {
    case 'status':
      if (msg.state === 'busy') return { ...cell, phase: 'running', execution_count: msg.execution_count ?? cell.execution_count };
      if (msg.state === 'idle') return { ...cell, phase: cell.phase === 'error' ? 'error' : 'idle', msg_id: undefined };
      if (msg.state === 'dead') return { ...cell, phase: 'error', msg_id: undefined };
      return cell;
    case 'stream': {
      const last = cell.outputs[cell.outputs.length - 1];
      // Consecutive writes to one stream become one output, as in Jupyter.
      if (last && last.output_type === 'stream' && last.name === msg.name) {
        const text = joinText(last.text) + msg.text;
        return { ...cell, outputs: [...cell.outputs.slice(0, -1), { ...last, text: splitLines(text) }] };
      }
      return { ...cell, outputs: [...cell.outputs, { name: msg.name, output_type: 'stream', text: splitLines(msg.text) }] };
    }
    case 'display_data': {
      const out: Output = { data: msg.data, metadata: msg.metadata, output_type: 'display_data' };
      const displays = msg.display_id
        ? { ...cell.displays, [msg.display_id]: [...(cell.displays[msg.display_id] ?? []), cell.outputs.length] }
        : cell.displays;
      return { ...cell, outputs: [...cell.outputs, out], displays };
    }
    case 'update_display_data': {
      const at = cell.displays[msg.display_id];
      if (!at) return cell;
      const outputs = cell.outputs.map((o, i) => (at.includes(i) ? { data: msg.data, metadata: msg.metadata, output_type: 'display_data' as const } : o));
      return { ...cell, outputs };
    }
    case 'execute_result':
      return {
        ...cell,
        execution_count: msg.execution_count,
        outputs: [...cell.outputs, { data: msg.data, execution_count: msg.execution_count, metadata: msg.metadata, output_type: 'execute_result' }],
      };
    case 'error':
      return {
        ...cell,
        phase: 'error',
        outputs: [...cell.outputs, { ename: msg.ename, evalue: msg.evalue, output_type: 'error', traceback: msg.traceback }],
      };
  }
}

function joinText(t: string | string[]): string {
  return Array.isArray(t) ? t.join('') : t;
}
