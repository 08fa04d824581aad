// The decision matrix at scale in a real browser (Debian's Chromium): a generated run folder with
// 100K test pairs × 4 variants, opened in browser mode. Reports the time to open it, to apply each
// filter (click → the grid shows the new row count) and to scroll to the end and back.
// Run: npx tsx bench/decisions-browser.ts [--pairs N] [--json]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRenderer, RENDERER_DIST, rendererBuildNeeded } from '../core/app/renderer-build.ts';
import { startBrowserServer } from '../core/app/server.ts';
import { AppService } from '../core/app/service.ts';
import { Rng } from '../core/util/rng.ts';
import { launch } from '../test/e2e/browser.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('pairs', '100000'));
const LABELS = ['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant'];
const VARIANTS = ['sft_all', '+ee', '+dr', '+dpo'];

function writeRun(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(3);
  const words = ['drill', 'cordless', 'oak', 'table', 'lamp', 'led', 'cable', 'usb', 'pack', 'red', 'steel', 'glass', 'mug', '18v'];
  const text = (k: number) => Array.from({ length: k }, () => words[rng.int(words.length)]).join(' ');
  const pairs: string[] = [];
  const preds: string[] = [];
  for (let i = 0; i < N; i++) {
    const gold = rng.int(5);
    pairs.push(JSON.stringify({ pair_id: `p${i}`, query_id: `q${i % 5000}`, query: text(3), product_id: `P${i}`, title: text(7), label: LABELS[gold], query_freq: ['head', 'torso', 'tail'][i % 3] }));
    for (const v of VARIANTS) {
      const p = rng.next() < 0.55 ? gold : rng.int(5);
      preds.push(JSON.stringify({ pair_id: `p${i}`, variant: v, label: LABELS[p], probs: { [LABELS[p]]: Number(rng.next().toFixed(3)) } }));
    }
  }
  writeFileSync(join(dir, 'pairs.jsonl'), pairs.join('\n') + '\n');
  writeFileSync(join(dir, 'predictions.jsonl'), preds.join('\n') + '\n');
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ data: { scheme: 'lref5' }, variants: VARIANTS }));
}

const ws = mkdtempSync(join(tmpdir(), 'lref-bench-views-'));
writeRun(join(ws, 'runs', 'big'));
if (rendererBuildNeeded()) buildRenderer();
const service = new AppService({ workspace: ws, shell: 'browser' });
const server = await startBrowserServer({ service, staticDir: RENDERER_DIST });
const { context, page } = await launch({ width: 1500, height: 950 });
const rowsShown = async () => Number(await page.locator('[data-testid=decision-grid]').getAttribute('data-rows'));
const until = async (ok: () => Promise<boolean>) => {
  for (;;) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
};
const ms: Record<string, number> = {};
try {
  await page.goto(server.url);
  let t0 = performance.now();
  await page.click('[data-path="runs/big"]');
  await page.waitForSelector('[data-testid=decision-grid]', { timeout: 120_000 });
  await until(async () => (await rowsShown()) === N);
  ms[`open ${N} pairs (load over the WebSocket, parse, first paint)`] = performance.now() - t0;
  // Measured inside the page: click → the grid's row count attribute changes → the next frame is painted.
  const inPage = (filter: string) =>
    page.evaluate(async (f) => {
      const grid = document.querySelector('[data-testid=decision-grid]') as HTMLElement;
      const before = grid.dataset.rows;
      const t = performance.now();
      (document.querySelector(`[data-filter=${f}]`) as HTMLButtonElement).click();
      await new Promise<void>((done) => {
        const o = new MutationObserver(() => {
          const g = document.querySelector('[data-testid=decision-grid]') as HTMLElement;
          if (g.dataset.rows === before) return;
          o.disconnect();
          done();
        });
        o.observe(document.body, { attributes: true, subtree: true, attributeFilter: ['data-rows'] });
      });
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      return performance.now() - t;
    }, filter);
  for (const f of ['different', 'errors', 'optimistic', 'offBy2', 'changed-fixed']) {
    ms[`filter ${f} (click → new rows painted, in page)`] = await inPage(f);
    await inPage(f); // and off again
  }
  t0 = performance.now();
  await page.fill('input[aria-label=Search]', 'oak table');
  await until(async () => (await rowsShown()) < N);
  ms['text search "oak table" (typed → rows shown)'] = performance.now() - t0;
  await page.fill('input[aria-label=Search]', '');
  await until(async () => (await rowsShown()) === N);
  t0 = performance.now();
  await page.locator('.grid-body').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.waitForSelector(`[data-testid=decision-grid] [role=row][aria-rowindex="${N + 1}"]`);
  ms['scroll to the last row (rendered)'] = performance.now() - t0;
  ms['rows in the DOM while scrolled'] = await page.locator('[data-testid=decision-grid] [role=row]').count();
} finally {
  await context.close();
  await server.close();
  await service.dispose();
}
if (process.argv.includes('--json')) console.log(JSON.stringify({ pairs: N, variants: VARIANTS.length, ms }));
else {
  console.log(`decision matrix in Chromium: ${N} pairs × ${VARIANTS.length} variants`);
  for (const [k, v] of Object.entries(ms)) console.log(`  ${k.padEnd(62)} ${v.toFixed(0).padStart(7)}`);
}
