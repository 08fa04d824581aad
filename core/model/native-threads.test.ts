import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { nativeAddonPath } from './native-addon.ts';

const addonPath = nativeAddonPath();
const built = existsSync(addonPath) && process.env.LREF_NATIVE !== '0';
if (!built) console.warn('native thread-pool test skipped: addon not built');

describe.skipIf(!built)('native thread pool', () => {
  it('can be resized right after it was made, over and over, without hanging', () => {
    // In a child process with a timeout: the failure mode is a deadlock (a worker that started
    // after its pool was already being destroyed waited for a job forever while join() waited for it).
    const script = `
      const a = require(${JSON.stringify(addonPath)});
      const A = new Float32Array(256 * 256).fill(1), C = new Float32Array(256 * 256);
      for (let i = 0; i < 300; i++) {
        a.setThreads(1 + (i % 2));
        a.gemm(1, 1, 1, 256, 256, 256, 0, 0, A, A, C);
        if (C[0] !== 256) throw new Error('wrong product');
      }
      console.log('ok', a.info().threads);`;
    const r = spawnSync(process.execPath, ['-e', script], { timeout: 30_000, encoding: 'utf8' });
    expect(r.signal, 'the child hung and was killed').toBeNull();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok 2');
  });
});
