import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';

/** The checkout this code runs from, and where the built renderer lives in it. */
export const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIST = join(CHECKOUT, 'dist', 'renderer');
export const EDITOR_TYPES_FILE = join(RENDERER_DIST, 'lref-types.json');

/** Sources the built page depends on: a newer one means the build is stale. */
const SOURCES = ['renderer', 'core/app', 'core/kernel'].map((d) => join(CHECKOUT, d));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether the renderer must be (re)built, and why; undefined when the build is current. */
export function rendererBuildNeeded(): string | undefined {
  const index = join(RENDERER_DIST, 'index.html');
  if (!existsSync(index) || !existsSync(EDITOR_TYPES_FILE)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  if (SOURCES.some((d) => existsSync(d) && newest(d) > built)) return 'sources changed since the last build';
  return undefined;
}

/** Builds the renderer in a child process (Vite stays out of this one); throws with Vite's output on failure. */
export function buildRenderer(): void {
  const r = spawnSync(process.execPath, [join(CHECKOUT, 'renderer', 'build.mjs'), '--strict'], { cwd: CHECKOUT, encoding: 'utf8' });
  if (r.status !== 0) throw new UserError(`building the app's UI failed:\n${(r.stdout ?? '') + (r.stderr ?? '')}`.trim());
}
