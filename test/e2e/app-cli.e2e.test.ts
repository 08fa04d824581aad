import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { buildRenderer, CHECKOUT, rendererBuildNeeded } from '../../core/app/renderer-build.ts';

/** `npm start` as a user meets it: one line with the URL and its token, the shell and backend said plainly. */
const LREF = join(CHECKOUT, 'bin', 'lref.mjs');

function start(args: string[]) {
  const child = spawn(process.execPath, [LREF, 'app', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '' } });
  const lines: string[] = [];
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=\w+)/.exec(l);
      if (m) resolve(m[1]);
    });
    createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
    child.once('exit', (code) => reject(new Error(`lref app exited (${code}) before printing a URL:\n${lines.join('\n')}`)));
  });
  url.catch(() => undefined); // a test that expects a failed start never awaits the URL
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, url, lines, exited };
}

describe('lref app (npm start) without an Electron binary', () => {
  it('prints the URL with a token, says which shell and backend it got, serves the page and stops on SIGTERM', async () => {
    if (rendererBuildNeeded()) buildRenderer();
    const ws = mkdtempSync(join(tmpdir(), 'lref-app-cli-'));
    const t0 = performance.now();
    const app = start(['--workspace', ws]);
    const url = await app.url;
    console.log(`[app cli] npm start → URL printed in ${Math.round(performance.now() - t0)} ms`);
    expect(app.lines.join('\n')).toMatch(/Shell: browser mode \(Electron binary missing/);
    expect(app.lines.join('\n')).toMatch(/TF\.js backend: \S+/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>LREF Workbench</title>');
    expect((await fetch(url.replace(/\?token=.*/, ''))).status).toBe(403);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('--shell electron fails plainly, naming why, with a non-zero exit', async () => {
    const app = start(['--shell', 'electron', '--workspace', mkdtempSync(join(tmpdir(), 'lref-app-cli-'))]);
    expect(await app.exited).not.toBe(0);
    expect(app.lines.join('\n')).toMatch(/--shell electron: Electron binary missing/);
  });
});
