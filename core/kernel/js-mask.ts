/**
 * Masks the non-code parts of JavaScript (string and template text, comments, regex literals) with
 * spaces, keeping every newline and every offset. The rewriter then finds statements, commas and
 * `=` signs with plain string searches on the mask and slices the original at the same offsets.
 * Template `${ … }` holes stay code; their `${` and `}` become ` (` and `)` so bracket depth stays
 * balanced and a hole spanning lines is never mistaken for a new statement.
 *
 * Input is esbuild output (normalised JS), so the regex-vs-division guess below only has to handle
 * the printer's spacing, not arbitrary hand-written code.
 */
export function maskJs(code: string): string {
  const out = code.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Each open template literal pushes the brace depth its current `${` hole started at.
  const holes: number[] = [];
  let braces = 0;
  let i = 0;
  const n = code.length;

  /** Scans template text from i (just after ` or }) to the closing ` or the next ${. */
  const templateText = (): void => {
    const start = i;
    while (i < n) {
      const c = code[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        blank(start, i + 1);
        i++;
        return;
      } else if (c === '$' && code[i + 1] === '{') {
        blank(start, i);
        out[i] = ' ';
        out[i + 1] = '(';
        holes.push(braces);
        i += 2;
        return;
      } else i++;
    }
    blank(start, n);
  };

  while (i < n) {
    const c = code[i];
    if (c === '"' || c === "'") {
      const start = i++;
      while (i < n && code[i] !== c && code[i] !== '\n') i += code[i] === '\\' ? 2 : 1;
      blank(start, ++i);
    } else if (c === '`') {
      out[i] = ' ';
      i++;
      templateText();
    } else if (c === '/' && code[i + 1] === '/') {
      const start = i;
      while (i < n && code[i] !== '\n') i++;
      blank(start, i);
    } else if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && regexCanStart(out, i)) {
      const start = i++;
      let inClass = false;
      while (i < n && code[i] !== '\n') {
        const d = code[i];
        if (d === '\\') i++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(code[i])) i++;
      blank(start, i);
      // A placeholder identifier keeps "regex then /" from reading as a second regex.
      out[start] = 'r';
    } else if (c === '{') {
      braces++;
      i++;
    } else if (c === '}') {
      if (holes.length && holes[holes.length - 1] === braces) {
        holes.pop();
        out[i] = ')';
        i++;
        templateText();
      } else {
        braces--;
        i++;
      }
    } else i++;
  }
  return out.join('');
}

const REGEX_AFTER_WORD = /(?:^|[^\w$])(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|await|yield)$/;

/** A `/` starts a regex when the previous code token cannot end an expression. */
function regexCanStart(masked: string[], at: number): boolean {
  let j = at - 1;
  while (j >= 0 && /\s/.test(masked[j])) j--;
  if (j < 0) return true;
  const prev = masked[j];
  if ('(,=:[!&|?{};+-*%<>~^'.includes(prev)) return true;
  if (/[\w$]/.test(prev)) {
    const word = masked.slice(Math.max(0, j - 11), j + 1).join('');
    return REGEX_AFTER_WORD.test(word);
  }
  return false;
}

/** Bracket depth before each offset of a masked string: depth[i] counts open ([{ before i. */
export function depthAt(masked: string): Int32Array {
  const depth = new Int32Array(masked.length + 1);
  let d = 0;
  for (let i = 0; i < masked.length; i++) {
    depth[i] = d;
    const c = masked[i];
    if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') d--;
  }
  depth[masked.length] = d;
  return depth;
}
