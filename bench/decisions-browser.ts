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
  // Measured inside the page: the input (a click, or typed text) → the grid's row count attribute
  // changes → the next frame is painted; then → the browser is idle (counts, matrices, slices and
  // column accuracies, which follow in a deferred render, are on screen).
  const inPage = (action: { filter: string } | { search: string }) =>
    page.evaluate(async (a) => {
      const grid = document.querySelector('[data-testid=decision-grid]') as HTMLElement;
      const before = grid.dataset.rows;
      // observe first: React applies a controlled input's change inside the event's dispatch
      const changed = new Promise<void>((done) => {
        const o = new MutationObserver(() => {
          const g = document.querySelector('[data-testid=decision-grid]') as HTMLElement;
          if (g.dataset.rows === before) return;
          o.disconnect();
          done();
        });
        o.observe(document.body, { attributes: true, subtree: true, attributeFilter: ['data-rows'] });
      });
      const t = performance.now();
      if ('filter' in a) (document.querySelector(`[data-filter=${a.filter}]`) as HTMLButtonElement).click();
      else {
        const input = document.querySelector('input[aria-label=Search]') as HTMLInputElement;
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, a.search);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }
      await changed;
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      const rows = performance.now() - t;
      await new Promise((r) => requestIdleCallback(() => r(null)));
      return [rows, performance.now() - t];
    }, action);
  const record = (name: string, [rows, settled]: number[]) => {
    ms[`${name}: rows painted`] = rows;
    ms[`${name}: counts and matrices too`] = settled;
  };
  await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(null), { timeout: 5000 })));
  for (const f of ['different', 'errors', 'optimistic', 'offBy2', 'changed-fixed']) {
    record(`filter ${f}`, await inPage({ filter: f }));
    await inPage({ filter: f }); // and off again
  }
  record('text search "oak table"', await inPage({ search: 'oak table' }));
  record('text search cleared', await inPage({ search: '' }));
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
  for (const [k, v] of Object.entries(ms)) console.log(`  ${k.padEnd(66)} ${v.toFixed(0).padStart(7)}`);
}
