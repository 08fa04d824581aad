import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, relative, sep } from 'node:path';

/**
 * Declarations of the `lref` API for the editor: what a cell can import from 'lref' and the globals
 * the kernel defines (every prelude export, `display`, `kernel`). Emitted from the prelude's own
 * source with the TypeScript compiler, so completion and hover never drift from the code.
 * The renderer build writes them to a file (emitting takes ~6 s); without the compiler (a production install) the editor simply
 * has no lref types.
 */
export interface TypeFile {
  path: string;
  content: string;
}

const PRELUDE = fileURLToPath(new URL('../kernel/prelude.ts', import.meta.url));
const CORE = dirname(dirname(PRELUDE));
/** where the files live in the editor's virtual file system */
export const TYPES_ROOT = 'file:///lref';

let cached: TypeFile[] | undefined;

/** The declarations: from the file the renderer build wrote (when there is one), else emitted now. */
export function editorTypes(prebuilt?: string): TypeFile[] {
  if (!cached && prebuilt && existsSync(prebuilt)) cached = JSON.parse(readFileSync(prebuilt, 'utf8')) as TypeFile[];
  cached ??= emitEditorTypes();
  return cached;
}

export function emitEditorTypes(): TypeFile[] {
  let ts: typeof import('typescript');
  try {
    ts = createRequire(import.meta.url)('typescript');
  } catch {
    return [];
  }
  const program = ts.createProgram([PRELUDE], {
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    strict: true,
    types: ['node'],
  });
  const files: TypeFile[] = [];
  program.emit(undefined, (fileName, text) => {
    if (!fileName.startsWith(CORE + sep)) return;
    const rel = relative(CORE, fileName).split(sep).join('/');
    // Monaco resolves './x' to x.d.ts; drop the .ts extensions our sources import with.
    files.push({ path: `${TYPES_ROOT}/core/${rel}`, content: text.replace(/(['"])(\.{1,2}\/[^'"]+?)\.ts\1/g, '$1$2$1') });
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(PRELUDE);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const values = moduleSymbol
    ? checker
        .getExportsOfModule(moduleSymbol)
        .filter((s) => {
          if (s.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return false;
          const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
          return (target.flags & ts.SymbolFlags.Value) !== 0;
        })
        .map((s) => s.getName())
    : [];
  files.push({ path: `${TYPES_ROOT}/globals.d.ts`, content: globals(values) });
  return files;
}

/** The cell globals: each prelude value, `display` and `kernel` (core/kernel/worker.ts). */
function globals(values: string[]): string {
  const lines = [
    `type __Lref = typeof import('./core/kernel/prelude');`,
    'declare global {',
    ...values.map((v) => `  const ${v}: __Lref['${v}'];`),
    '  interface DisplayHandle { display_id: string; update(value: unknown): void }',
    '  interface ProgressHandle { display_id: string; update(done: number, fields?: Record<string, string | number>): void; done(fields?: Record<string, string | number>): void }',
    '  /** Shows a value below the cell; rich values (tables, charts) through the helpers. */',
    '  const display: {',
    '    (value: unknown, opts?: { display_id?: string }): DisplayHandle;',
    '    table(rows: Record<string, unknown>[], opts?: { columns?: string[]; maxRows?: number; title?: string }): void;',
    '    vegalite(spec: Record<string, unknown>): void;',
    '    html(html: string): void;',
    '    image(png: Uint8Array, opts?: { width?: number; height?: number }): void;',
    '    pairs(records: { query: string; title: string; gold?: string; preds?: Record<string, string>; pred?: string; rationale?: string }[], opts?: { maxRows?: number }): void;',
    '    confusion(matrix: number[][], labels?: string[]): void;',
    '    markdown(md: string): void;',
    '    /** the decision matrix of run folders (relative to the notebook), live in the app with an "open in workbench" link */',
    '    decisions(ref: { runs: string[]; columns?: string[]; filters?: Record<string, unknown> }): void;',
    '    /** a live progress bar: update(done) at most every everyMs */',
    '    progress(total: number, label?: string, everyMs?: number): ProgressHandle;',
    '  };',
    '  /** Interrupt plumbing for long async cells. */',
    '  const kernel: { readonly signal: AbortSignal; check(): void; sleep(ms: number): Promise<void>; cwd: string };',
    '}',
    'export {};',
  ];
  return lines.join('\n') + '\n';
}
