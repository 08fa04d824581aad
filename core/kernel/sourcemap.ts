/**
 * Just enough of source map v3 to turn a line of esbuild's output back into a line of the cell's
 * TypeScript: for each generated line, the original line of its first mapped segment. A line
 * without segments inherits the previous line's (a wrapped expression's continuation).
 */
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Decodes one segment's base64 VLQ fields. */
function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64_INDEX.get(ch);
    if (digit === undefined) throw new Error(`source map: bad VLQ character "${ch}"`);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** Returns lines[g] = 1-based original line for 1-based generated line g (index 0 unused). */
export function generatedToOriginalLines(mappings: string): number[] {
  const lines: number[] = [0];
  let originalLine = 0; // the 4th field is a delta carried across segments and lines
  let last = 1;
  for (const genLine of mappings.split(';')) {
    let first: number | undefined;
    for (const seg of genLine.split(',')) {
      if (!seg) continue;
      const f = decodeVlq(seg);
      if (f.length >= 4) {
        originalLine += f[2];
        if (first === undefined) first = originalLine + 1;
      }
    }
    if (first !== undefined) last = first;
    lines.push(last);
  }
  return lines;
}
