import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../util/paths.ts';

// native/build.mjs runs from `npm ci`: it must succeed (exit 0) and say why when it cannot build.
describe('native/build.mjs', () => {
  const script = join(repoRoot(), 'native', 'build.mjs');

  it('exits 0 with a reason when no compiler can be found', () => {
    const r = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', HOME: process.env.HOME ?? '/tmp', CXX: '/nonexistent/g++' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/not built: (no C\+\+ compiler|Node headers)/);
  });

  it('exits 0 and builds nothing when skipped', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, LREF_NATIVE_SKIP: '1' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('skipped (LREF_NATIVE_SKIP=1)');
  });
});
