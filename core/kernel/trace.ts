/**
 * Turns an exception from a cell into a Jupyter-style error (ename, evalue, traceback) whose frames
 * name the cell and the line of the cell's TypeScript, with that line's text, instead of the
 * generated script's coordinates. Kernel-internal and node:internal frames are dropped.
 */
export interface CellScript {
  /** how the trace names the cell, e.g. "cell 3" */
  cellName: string;
  /** scriptLineToCell[n] = 1-based line in the cell source for 1-based script line n */
  scriptLineToCell: number[];
  sourceLines: string[];
}

export interface DescribedError {
  ename: string;
  evalue: string;
  traceback: string[];
  /** cell line of the innermost frame in `current` (the executing cell), if any */
  line?: number;
}

const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;

export function describeError(err: unknown, scripts: ReadonlyMap<string, CellScript>, current: string, internalFiles: string[]): DescribedError {
  const ename = err instanceof Error ? err.name : typeof err === 'object' && err !== null ? 'Error' : 'Thrown';
  const evalue = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack.split('\n') : [];
  const frames: string[] = [];
  let line: number | undefined;
  for (const raw of stack) {
    const m = raw.match(FRAME);
    if (!m) continue;
    const [, fn, file, l] = m;
    const script = scripts.get(file);
    if (script) {
      const cellLine = script.scriptLineToCell[Number(l)] ?? script.scriptLineToCell[script.scriptLineToCell.length - 1] ?? 1;
      if (line === undefined && file === current) line = cellLine;
      const where = `${script.cellName}, line ${cellLine}`;
      const name = fn && !fn.startsWith('async ') && fn !== 'eval' ? `${fn} ` : '';
      const frame = `  at ${name}(${where})\n      ${(script.sourceLines[cellLine - 1] ?? '').trim()}`;
      // The cell's async wrapper and the script itself both report the last line: show it once.
      if (frames[frames.length - 1] !== frame) frames.push(frame);
    } else if (!file.startsWith('node:') && !internalFiles.some((f) => file.includes(f))) {
      frames.push(raw.replace(/^\s*/, '  '));
    }
  }
  return { ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames], line };
}
