import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { AppFailure, type FileVersion, type TreeEntryT } from './contract.ts';

/**
 * The workspace folder the app may touch, and nothing outside it. Every path from the UI is
 * workspace-relative; `..`, absolute paths and symlinks that lead out are refused, since in browser
 * mode the UI is a web page and the folder is the only thing it is allowed to see.
 */
export class Workspace {
  readonly root: string;

  constructor(root: string) {
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new AppFailure('not_found', `workspace ${root}: not a folder`);
    this.root = realpathSync(root);
  }

  /** The absolute path for a workspace-relative one, refused if it could leave the workspace. */
  resolve(rel: string): string {
    if (rel.includes('\0')) throw new AppFailure('forbidden', `${JSON.stringify(rel)}: a path may not contain NUL`);
    if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel) || rel.startsWith('\\')) {
      throw new AppFailure('forbidden', `${rel}: absolute paths are refused; give a path inside the workspace`);
    }
    const parts = rel.split(/[\\/]+/);
    if (parts.includes('..')) throw new AppFailure('forbidden', `${rel}: ".." is refused; give a path inside the workspace`);
    const abs = resolve(this.root, rel);
    if (abs !== this.root && !abs.startsWith(this.root + sep)) throw new AppFailure('forbidden', `${rel}: outside the workspace`);
    // A symlink anywhere on the way may lead out: check the real path of the deepest existing part.
    let probe = abs;
    while (!existsSync(probe) && probe !== this.root) probe = dirname(probe);
    const real = realpathSync(probe);
    if (real !== this.root && !real.startsWith(this.root + sep)) {
      throw new AppFailure('forbidden', `${rel}: leads outside the workspace through a symlink`);
    }
    return abs;
  }

  relative(abs: string): string {
    return relative(this.root, abs).split(sep).join('/');
  }

  version(rel: string): FileVersion | null {
    const abs = this.resolve(rel);
    if (!existsSync(abs)) return null;
    const text = readFileSync(abs);
    return { mtimeMs: statSync(abs).mtimeMs, hash: hashOf(text) };
  }

  readText(rel: string): { text: string; version: FileVersion } {
    const abs = this.resolve(rel);
    if (!existsSync(abs)) throw new AppFailure('not_found', `${rel}: no such file`);
    const buf = readFileSync(abs);
    return { text: buf.toString('utf8'), version: { mtimeMs: statSync(abs).mtimeMs, hash: hashOf(buf) } };
  }

  /**
   * Writes atomically. With a `base`, a file that changed on disk since (another editor, git) is a
   * conflict: the UI asks the user instead of overwriting their work.
   */
  writeText(rel: string, text: string, base: FileVersion | null | 'any', mustNotExist = false): FileVersion {
    const abs = this.resolve(rel);
    const exists = existsSync(abs);
    if (mustNotExist && exists) throw new AppFailure('conflict', `${rel}: already exists`);
    if (base !== 'any' && exists) {
      const onDisk = hashOf(readFileSync(abs));
      if (base === null || onDisk !== base.hash) {
        throw new AppFailure('conflict', `${rel}: changed on disk since it was opened; reload it or save anyway`);
      }
    }
    writeFileAtomic(abs, text);
    return { mtimeMs: statSync(abs).mtimeMs, hash: hashOf(Buffer.from(text, 'utf8')) };
  }

  rename(from: string, to: string): void {
    const a = this.resolve(from);
    const b = this.resolve(to);
    if (!existsSync(a)) throw new AppFailure('not_found', `${from}: no such file`);
    if (existsSync(b)) throw new AppFailure('conflict', `${to}: already exists`);
    renameSync(a, b);
  }

  remove(rel: string): void {
    const abs = this.resolve(rel);
    if (!existsSync(abs)) throw new AppFailure('not_found', `${rel}: no such file`);
    if (statSync(abs).isDirectory()) throw new AppFailure('bad_request', `${rel}: is a folder; only notebooks are deleted from the app`);
    rmSync(abs);
  }

  /** Notebooks and run folders (a folder with run.json), skipping dependencies and hidden folders. */
  tree(rel = '', depth = 0): TreeEntryT[] {
    const abs = rel ? this.resolve(rel) : this.root;
    const out: TreeEntryT[] = [];
    let names: string[];
    try {
      names = readdirSync(abs).sort((x, y) => x.localeCompare(y));
    } catch {
      return out;
    }
    for (const name of names) {
      if (name.startsWith('.') || SKIP.has(name)) continue;
      const childRel = rel ? `${rel}/${name}` : name;
      const childAbs = join(abs, name);
      let st;
      try {
        st = lstatSync(childAbs);
        if (st.isSymbolicLink()) this.resolve(childRel); // listed only if it stays inside
        st = statSync(childAbs);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (existsSync(join(childAbs, 'run.json'))) {
          out.push({ path: childRel, name, kind: 'run', mtimeMs: st.mtimeMs });
        } else if (depth < MAX_DEPTH) {
          const children = this.tree(childRel, depth + 1);
          if (children.length) out.push({ path: childRel, name, kind: 'dir', mtimeMs: st.mtimeMs, children });
        }
      } else if (name.endsWith('.ipynb')) {
        out.push({ path: childRel, name, kind: 'notebook', mtimeMs: st.mtimeMs });
      } else if (name.endsWith('.json') && rel.split('/').pop() === 'prompts') {
        out.push({ path: childRel, name, kind: 'template', mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }
}

const SKIP = new Set(['node_modules', 'dist', 'checkpoints', '__pycache__']);
const MAX_DEPTH = 4;

export function hashOf(buf: Buffer | Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex').slice(0, 16);
}
