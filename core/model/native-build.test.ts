import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// A build copied to a CPU without the features it was compiled for must refuse to load (a JS
// error, not SIGILL on the first kernel), and the loader must fall back to a variant that fits.
const hasCompiler = spawnSync('g++', ['--version']).status === 0;
const cpuFlags = (() => {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [];
  } catch {
    return [];
  }
})();
// AVX512-FP16 (Sapphire Rapids and later Intel) is what this CPU must lack for the test to mean anything.
const canTest = process.arch === 'x64' && hasCompiler && cpuFlags.length > 0 && !cpuFlags.includes('avx512_fp16');

describe.skipIf(!canTest)('native/build.mjs variants on a CPU that lacks their features', () => {
  const script = join(repoRoot(), 'native', 'build.mjs');
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lref-native-variants-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a Sapphire Rapids build refuses to load here and the loader falls back to the generic one; the build is reused until the CPU changes', () => {
    // -O0: this tests the build and the loader, not the kernels' speed (an -O3 build of two variants takes a minute)
    const env = { ...process.env, LREF_NATIVE_BUILD_DIR: dir, LREF_NATIVE_VARIANTS: 'native:sapphirerapids,generic:x86-64', LREF_NATIVE_OPT: '-O0' };
    const first = spawnSync(process.execPath, [script], { encoding: 'utf8', env });
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('built lref_native.node, lref_native-generic.node');

    const direct = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(dir, 'lref_native.node'))})`], { encoding: 'utf8' });
    expect(direct.signal).toBeNull();
    // It names the first feature this CPU lacks: avx512fp16 on most, avx512vp2intersect on AMD Zen 4.
    const missing = /needs the CPU feature (\w+), which this CPU lacks/.exec(direct.stderr)?.[1];
    expect(missing, direct.stderr).toMatch(/^avx512/);
    expect(cpuFlags).not.toContain(missing!.replace(/^avx512/, 'avx512_'));
    expect(cpuFlags).not.toContain(missing);

    const loader = `import { loadNativeAddon } from ${JSON.stringify(join(repoRoot(), 'core', 'model', 'native-addon.ts'))};
      const s = loadNativeAddon();
      const c = new Float32Array(4);
      if (s.available) s.addon.gemm(1, 1, 1, 2, 2, 2, 0, 0, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 0, 0, 1), c);
      console.log(JSON.stringify({ available: s.available, variant: s.available && s.variant, c: Array.from(c) }));`;
    const loaded = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', loader], { encoding: 'utf8', env, cwd: repoRoot() });
    expect(loaded.signal).toBeNull();
    expect(JSON.parse(loaded.stdout.trim().split('\n').pop()!)).toEqual({ available: true, variant: 'generic', c: [1, 2, 3, 4] });

    const again = spawnSync(process.execPath, [script], { encoding: 'utf8', env });
    expect(again.stdout).toContain('up to date');

    // The same folder on "another CPU": build-info.json says so, and the build starts over.
    const infoPath = join(dir, 'build-info.json');
    const info = JSON.parse(readFileSync(infoPath, 'utf8'));
    writeFileSync(infoPath, JSON.stringify({ ...info, key: 'other', cpu: { ...info.cpu, model: 'Some Other CPU' } }));
    const moved = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...env, LREF_NATIVE_VARIANTS: 'generic:x86-64' } });
    expect(moved.status).toBe(0);
    expect(moved.stdout).toContain('rebuilding: built for Some Other CPU');
    expect(moved.stdout).toContain('built lref_native-generic.node');
  }, 600_000);
});
