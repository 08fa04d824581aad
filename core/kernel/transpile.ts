import { transform } from 'esbuild';
import { depthAt, maskJs } from './js-mask.ts';
import { generatedToOriginalLines } from './sourcemap.ts';

/**
 * Turns one notebook cell of TypeScript into a script for `vm.Script#runInThisContext` that:
 * - keeps its top-level names for later cells: `const/let/var` and `class` become assignments to
 *   globals, `function` declarations stay (hoisting) and are copied to globals at entry, `import`
 *   becomes `await __lref.import(…)` destructured into globals (so re-running a cell just reassigns);
 * - allows top-level await (the body is wrapped in an async arrow; the script returns its promise);
 * - returns the value of a final expression statement (the cell's execute_result).
 * Rewrites never add lines, so script line N is esbuild's line N and the esbuild source map gives
 * the cell's line for error traces.
 */
export interface TranspiledCell {
  /** the script; evaluates to a Promise of the last expression's value */
  script: string;
  /** scriptLineToCell[n] = 1-based line in the cell source for 1-based script line n */
  scriptLineToCell: number[];
}

/** A cell that does not parse: where and why, in the cell's own line numbers. */
export class CellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    readonly lineText: string,
  ) {
    super(message);
    this.name = 'SyntaxError';
  }
}

export async function transpileCell(source: string): Promise<TranspiledCell> {
  let js: { code: string; map: string };
  try {
    js = await transform(source, {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
      sourcemap: 'external',
      // Keep imports that this cell does not use: a later cell may.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      logLevel: 'silent',
    });
  } catch (e) {
    const err = (e as { errors?: { text: string; location?: { line: number; column: number; lineText: string } }[] }).errors?.[0];
    if (!err) throw e;
    throw new CellSyntaxError(err.text, err.location?.line ?? 1, err.location?.column ?? 0, err.location?.lineText ?? '');
  }
  const { body, prologue } = rewriteTopLevel(js.code);
  const map = JSON.parse(js.map) as { mappings: string };
  return {
    script: `(async () => { ${prologue}${body}\n})()`,
    scriptLineToCell: generatedToOriginalLines(map.mappings),
  };
}

interface Statement {
  text: string;
  masked: string;
}

const IDENT = '[A-Za-z_$][\\w$]*';
const NOT_AN_EXPRESSION =
  /^(?:if|for|while|do|switch|try|throw|return|break|continue|debugger|with|function|class|const|let|var|import|export)\b|^async\s+function\b|^[{;]/;

/** Rewrites esbuild's JS (see TranspiledCell); exported for tests. */
export function rewriteTopLevel(code: string): { body: string; prologue: string } {
  let masked = maskJs(code);
  // Dynamic import() goes through the kernel's resolver (vm scripts have no module loader).
  const dyn = new RegExp(`(?<![\\w$.])import(?=\\s*\\()`, 'g');
  const hits = [...masked.matchAll(dyn)].map((m) => m.index);
  for (const at of hits.reverse()) {
    code = code.slice(0, at) + '__lref.import' + code.slice(at + 6);
    masked = masked.slice(0, at) + '__lref.import' + masked.slice(at + 6);
  }

  const statements = splitStatements(code, masked);
  const prologue: string[] = [];
  const lastExpr = lastExpressionIndex(statements);
  const parts = statements.map((s, i) => {
    const end = lastCodeChar(s.masked) + 1;
    const core = s.text.slice(0, end);
    const tail = s.text.slice(end);
    const rewritten = rewriteStatement(core, s.masked.slice(0, end), prologue, i === lastExpr);
    return padLines(rewritten, core) + tail;
  });
  return { body: parts.join(''), prologue: prologue.join(' ') };
}

/** Top-level statements start at column 0 of a line whose start is at bracket depth 0 (esbuild's printer indents everything nested). */
function splitStatements(code: string, masked: string): Statement[] {
  const depth = depthAt(masked);
  const starts: number[] = [];
  for (let i = 0; i < masked.length; i++) {
    if ((i === 0 || masked[i - 1] === '\n') && depth[i] === 0 && !/\s/.test(masked[i])) starts.push(i);
  }
  if (starts[0] !== 0) starts.unshift(0);
  return starts.map((s, k) => {
    const e = k + 1 < starts.length ? starts[k + 1] : code.length;
    return { text: code.slice(s, e), masked: masked.slice(s, e) };
  });
}

function lastCodeChar(masked: string): number {
  let j = masked.length - 1;
  while (j >= 0 && /\s/.test(masked[j])) j--;
  return j;
}

function lastExpressionIndex(statements: Statement[]): number {
  for (let i = statements.length - 1; i >= 0; i--) {
    const m = statements[i].masked.trim();
    if (!m) continue;
    if (/^export\s*\{/.test(m)) continue; // esbuild's trailing export list is dropped
    return NOT_AN_EXPRESSION.test(m) || /^[A-Za-z_$][\w$]*\s*:(?!:)/.test(m) ? -1 : i;
  }
  return -1;
}

/** The rewrite must not have fewer newlines than the original (line numbers must hold). */
function padLines(rewritten: string, original: string): string {
  const missing = countNewlines(original) - countNewlines(rewritten);
  return missing > 0 ? rewritten + '\n'.repeat(missing) : rewritten;
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}

function stripSemicolon(core: string): string {
  return core.endsWith(';') ? core.slice(0, -1) : core;
}

function rewriteStatement(core: string, masked: string, prologue: string[], isLastExpression: boolean): string {
  let m: RegExpMatchArray | null;
  if (/^export\s*\{/.test(masked)) return '';
  if ((m = masked.match(/^export\s+default\s+/))) return rewriteStatement(core.slice(m[0].length), masked.slice(m[0].length), prologue, isLastExpression);
  if ((m = masked.match(/^export\s+/))) return rewriteStatement(core.slice(m[0].length), masked.slice(m[0].length), prologue, isLastExpression);
  if (/^import[\s{*]/.test(masked)) return rewriteImport(core);
  if ((m = masked.match(/^(?:const|let|var)\s+/))) return rewriteDeclaration(core, masked, m[0].length, prologue);
  if ((m = masked.match(new RegExp(`^(?:async\\s+)?function\\s*\\*?\\s*(${IDENT})`)))) {
    prologue.push(`globalThis.${m[1]} = ${m[1]};`);
    return core;
  }
  if ((m = masked.match(new RegExp(`^class\\s+(${IDENT})`)))) return `${m[1]} = ${stripSemicolon(core)};`;
  if (isLastExpression) return `return (${stripSemicolon(core)});`;
  return core;
}

/**
 * `const a = 1, { b, c: [d] } = o, e;` → `(a = 1, { b, c: [d] } = o, e = undefined);`.
 * Sloppy-mode assignment creates the globals; simple names are pre-declared in the prologue so an
 * initialiser may read its own name (TS enums compile to `var E = (…)(E || {})`).
 */
function rewriteDeclaration(core: string, masked: string, keywordEnd: number, prologue: string[]): string {
  const body = stripSemicolon(core.slice(keywordEnd));
  const bodyMask = masked.slice(keywordEnd, keywordEnd + body.length);
  const depth = depthAt(bodyMask);
  const pieces: string[] = [];
  let from = 0;
  for (let i = 0; i <= bodyMask.length; i++) {
    if (i === bodyMask.length || (bodyMask[i] === ',' && depth[i] === 0)) {
      pieces.push(rewriteDeclarator(body.slice(from, i), bodyMask.slice(from, i), prologue));
      from = i + 1;
    }
  }
  return `(${pieces.join(',')});`;
}

function rewriteDeclarator(text: string, masked: string, prologue: string[]): string {
  const depth = depthAt(masked);
  let eq = -1;
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] !== '=' || depth[i] !== 0) continue;
    const prev = masked[i - 1] ?? '';
    const next = masked[i + 1] ?? '';
    if ('=!<>'.includes(prev) || next === '=' || next === '>') continue;
    eq = i;
    break;
  }
  const target = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (new RegExp(`^${IDENT}$`).test(target)) prologue.push(`"${target}" in globalThis || (globalThis.${target} = undefined);`);
  return eq < 0 ? `${text.replace(/\s+$/, '')} = undefined` : text;
}

/**
 * esbuild prints imports as `import d, { a, b as c } from "m";`, `import * as ns from "m";` or
 * `import "m";`. Each becomes an assignment from `await __lref.import("m")`.
 */
function rewriteImport(core: string): string {
  const flat = core.replace(/\s+/g, ' ');
  const bare = flat.match(/^import ("[^"]*"|'[^']*')/);
  if (bare) return `await __lref.import(${bare[1]});`;
  const m = flat.match(/^import (.*?) from ("[^"]*"|'[^']*')(?: (?:with|assert) \{[^}]*\})?;?$/);
  if (!m) throw new CellSyntaxError(`cannot read this import: ${flat}`, 1, 0, flat);
  const [, clause, spec] = m;
  const load = `await __lref.import(${spec})`;
  const ns = clause.match(new RegExp(`^(?:(${IDENT}) ?, ?)?\\* as (${IDENT})$`));
  if (ns) return ns[1] ? `${ns[2]} = ${load}; ${ns[1]} = ${ns[2]}.default;` : `${ns[2]} = ${load};`;
  const named = clause.match(new RegExp(`^(?:(${IDENT}) ?,? ?)?(?:\\{(.*)\\})?$`));
  if (!named) throw new CellSyntaxError(`cannot read this import: ${flat}`, 1, 0, flat);
  const props: string[] = [];
  if (named[1]) props.push(`default: ${named[1]}`);
  for (const item of (named[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const alias = item.match(/^(.+?) as (\S+)$/);
    props.push(alias ? `${alias[1]}: ${alias[2]}` : item);
  }
  return `({ ${props.join(', ')} } = ${load});`;
}
