import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, CHECKOUT, RENDERER_DIST, rendererBuildNeeded } from '../../core/app/renderer-build.ts';
import { startBrowserServer, type BrowserServer } from '../../core/app/server.ts';
import { AppService } from '../../core/app/service.ts';
import { newCodeCell, newNotebook, parseNotebook, serializeNotebook, sourceText } from '../../core/kernel/nbformat.ts';
import { launch, shot, skipWithoutChromium } from './browser.ts';

/**
 * The workbench in a real browser (Debian's Chromium), as a user drives it: open a notebook, edit,
 * Shift+Enter, run all with a table and a chart, interrupt an endless loop, restart, save and reload.
 * Screenshots of each step land in test/e2e/screenshots/ to be looked at.
 */
const skip = skipWithoutChromium();

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lref-app-e2e-'));
  mkdirSync(join(dir, 'notebooks'));
  copyFileSync(join(CHECKOUT, 'notebooks', 'hello.ipynb'), join(dir, 'notebooks', 'hello.ipynb'));
  const chart = newNotebook([
    { cell_type: 'markdown', id: 'title', metadata: {}, source: ['# Table and chart\n', 'Grades of a *tiny* run.'] },
    newCodeCell("const rows = LREF5.labels.map((label, i) => ({ label, pairs: 10 * (i + 1) }));\ndisplay.table(rows);", 'table'),
    newCodeCell("display.vegalite({ mark: 'bar', data: { values: rows }, encoding: { x: { field: 'label', type: 'nominal', sort: null }, y: { field: 'pairs', type: 'quantitative' } }, title: 'pairs per grade' });", 'chart'),
  ]);
  writeFileSync(join(dir, 'notebooks', 'chart.ipynb'), serializeNotebook(chart));
  return dir;
}

describe.skipIf(skip)('the workbench app in Chromium (browser mode)', () => {
  let server: BrowserServer;
  let service: AppService;
  let context: BrowserContext;
  let page: Page;
  let offHost: string[];
  const ws = workspace();

  beforeAll(async () => {
    if (rendererBuildNeeded()) buildRenderer();
    service = new AppService({ workspace: ws, shell: 'browser', interruptGraceMs: 3000 });
    server = await startBrowserServer({ service, staticDir: RENDERER_DIST });
    ({ context, page, offHost } = await launch());
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await service?.dispose();
  });

  const cell = (id: string) => page.locator(`[data-testid=cell][data-cell-id="${id}"]`);
  const idle = () => page.waitForSelector('[data-testid=kernel-status][data-state=idle]', { timeout: 60_000 });
  /** Enters edit mode on the selected cell and types, once its editor has the focus. */
  async function editSelected(text: string) {
    await page.keyboard.press('Enter');
    await page.waitForSelector('.monaco-editor.focused');
    await page.keyboard.insertText(text);
  }
  /** Types into a cell's Monaco editor, replacing its text. */
  async function setSource(id: string, text: string) {
    await cell(id).locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // Monaco auto-closes brackets and quotes as you type; insertText puts the text in as is.
    await page.keyboard.insertText(text);
  }

  it('opens the workspace and a notebook from the tree', async () => {
    const t0 = performance.now();
    await page.goto(server.url);
    await page.waitForSelector('[data-testid=tree] >> text=hello.ipynb');
    console.log(`[app e2e] page usable (tree shown) after ${Math.round(performance.now() - t0)} ms`);
    await shot(page, '01-workspace');
    await page.click('[data-testid=tree] >> text=hello.ipynb');
    await expect.poll(() => page.locator('[data-testid=cell]').count()).toBe(4);
    await idle();
    await expect.poll(() => page.locator('[data-testid=doc-title]').textContent()).toContain('notebooks/hello.ipynb');
    await shot(page, '02-hello-open');
  });

  it('edits a cell, runs it with Shift+Enter and shows its output', async () => {
    await setSource('params', "const n = 4;\nconst name = 'app';");
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => cell('params').getAttribute('data-phase')).toBe('idle');
    // Shift+Enter selected the next cell in command mode; Shift+Enter again runs it.
    await expect.poll(() => page.locator('[data-testid=notebook]').getAttribute('data-mode')).toBe('command');
    const t0 = performance.now();
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => cell('greet').locator('[data-testid=outputs]').textContent(), { timeout: 30_000 }).toContain('hello, app');
    console.log(`[app e2e] Shift+Enter → output of a trivial cell: ${Math.round(performance.now() - t0)} ms`);
    await expect.poll(() => cell('greet').locator('table tbody tr').count()).toBe(5);
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => cell('sum').locator('[data-testid=outputs]').textContent()).toBe('30');
    await expect.poll(() => cell('sum').locator('.prompt').textContent()).toMatch(/\[\d+\]/);
    await shot(page, '03-shift-enter');
  });

  it('marks the line of an error in the cell', async () => {
    await page.keyboard.press('b');
    await editSelected("const ok = 1;\nthrow new Error('bad grade');");
    await page.keyboard.press('Shift+Enter');
    const failing = page.locator('[data-testid=cell][data-phase=error]');
    await expect.poll(() => failing.locator('.output-error').textContent(), { timeout: 30_000 }).toContain('bad grade');
    await expect.poll(() => failing.locator('.error-line').count()).toBeGreaterThan(0);
    await shot(page, '04-error-line');
  });

  it('interrupts while (true) {} and the kernel keeps going', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('b');
    await editSelected('while (true) {}');
    await page.keyboard.press('Shift+Enter');
    await page.waitForSelector('[data-testid=kernel-status][data-state=busy]');
    await page.waitForSelector('[data-testid=cell][data-phase=running]');
    await shot(page, '05-running');
    await page.keyboard.press('Escape');
    await page.keyboard.press('i');
    await page.keyboard.press('i');
    await idle();
    await expect.poll(() => page.locator('.output-error').last().textContent()).toMatch(/Interrupted|restarted/);
    await shot(page, '06-interrupted');
  });

  it('restarts the kernel: variables are gone', async () => {
    await page.click('button:has-text("↻ Restart")');
    await idle();
    await setSource('sum', 'typeof squares');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => cell('sum').locator('[data-testid=outputs]').textContent(), { timeout: 30_000 }).toBe('undefined');
    await shot(page, '07-restarted');
  });

  it('saves with Ctrl+S; a reload shows the edit, and the file is valid nbformat', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.locator('[data-testid=save-state]').textContent()).toBe('saved');
    await page.reload();
    await page.waitForSelector('[data-cell-id=params]');
    // Monaco draws spaces as no-break spaces.
    await expect.poll(async () => (await cell('params').locator('.view-lines').textContent())?.replace(/\u00a0/g, ' ')).toContain("const name = 'app';");
    const nb = parseNotebook(readFileSync(join(ws, 'notebooks', 'hello.ipynb'), 'utf8'), 'hello.ipynb');
    expect(nb.nbformat).toBe(4);
    const params = nb.cells.find((c) => c.id === 'params')!;
    expect(sourceText(params.source)).toBe("const n = 4;\nconst name = 'app';");
    expect(params.metadata).toEqual({ tags: ['parameters'] }); // metadata the app does not edit survives
    expect(nb.metadata.kernelspec).toMatchObject({ name: 'lref-typescript' });
    await shot(page, '08-reloaded');
  });

  it('runs all of a notebook with a table and a chart', async () => {
    await page.click('[data-testid=tree] >> text=chart.ipynb');
    await page.waitForSelector('[data-cell-id=chart]');
    await idle();
    await page.click('button:has-text("▶▶ Run all")');
    await expect.poll(() => cell('table').locator('table tbody tr').count(), { timeout: 60_000 }).toBe(5);
    await page.waitForSelector('[data-cell-id=chart] .vega-output svg', { timeout: 30_000 });
    await expect.poll(() => cell('chart').locator('.vega-output svg .mark-rect path').count()).toBe(5);
    await expect.poll(() => cell('title').locator('h1').textContent()).toBe('Table and chart');
    // Autosave: outputs are part of the document and are saved without Ctrl+S.
    await expect.poll(() => page.locator('[data-testid=save-state]').textContent(), { timeout: 20_000 }).toBe('saved');
    expect(readFileSync(join(ws, 'notebooks', 'chart.ipynb'), 'utf8')).toContain('application/vnd.vegalite.v5+json');
    // Sorting a table column by clicking its header.
    await cell('table').locator('th:has-text("pairs")').click();
    await expect.poll(() => cell('table').locator('tbody tr:first-child td:last-child').textContent()).toBe('50');
    await shot(page, '09-run-all-chart');
  });

  it('completes and explains the lref API in the editor', async () => {
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=notebook]').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('b');
    await editSelected('generateData');
    await page.keyboard.press('Control+Space');
    const suggest = page.locator('.suggest-widget.visible');
    await expect.poll(() => suggest.textContent(), { timeout: 30_000 }).toContain('generateDataset');
    await shot(page, '10-completion');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText('LREF5.labels');
    await page.locator('.monaco-editor.focused .view-lines span:has-text("LREF5")').first().hover();
    await expect.poll(() => page.locator('.monaco-hover').first().textContent(), { timeout: 30_000 }).toContain('LabelScheme');
    await shot(page, '11-hover');
  });

  it('streams progress while a long cell runs, and the UI stays responsive', async () => {
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText("const bar = display.progress(30, 'training');\nfor (let i = 1; i <= 30; i++) { await kernel.sleep(100); bar.update(i, { loss: 1 / i }); }");
    await page.keyboard.press('Control+Enter');
    const bar = page.locator('[data-testid=cell][data-phase=running] [role=progressbar]');
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow').catch(() => '0')), { timeout: 30_000 }).toBeGreaterThan(3);
    const midway = Number(await bar.getAttribute('aria-valuenow'));
    expect(midway).toBeLessThan(30);
    // While it runs, the shortcut list still opens at once.
    await page.click('button:has-text("Shortcuts")');
    await page.waitForSelector('[role=dialog]', { timeout: 2000 });
    await page.click('[role=dialog] >> text=Close');
    await shot(page, '12-progress-streaming');
    await idle();
    await expect.poll(() => page.locator('[role=progressbar]').last().getAttribute('aria-valuenow')).toBe('30');
  });

  it('shows a crashed kernel on its cell with a restart offer', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('b');
    await editSelected('process.exit(3)');
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('[data-testid=kernel-status][data-state=dead]', { timeout: 30_000 });
    const crashed = page.locator('[data-testid=cell]:has-text("process.exit(3)")');
    expect((await crashed.locator('.view-lines').textContent())?.trim()).toBe('process.exit(3)'); // no stray newline from the Enter
    await expect.poll(() => crashed.locator('.output-error').textContent()).toContain('KernelDied');
    await shot(page, '13-kernel-died');
    await crashed.locator('button:has-text("Restart kernel")').click();
    await idle();
  });

  it('asks before overwriting a notebook changed on disk', async () => {
    const file = join(ws, 'notebooks', 'chart.ipynb');
    const onDisk = parseNotebook(readFileSync(file, 'utf8'), file);
    onDisk.cells.push(newCodeCell('// added by another editor', 'from-disk'));
    writeFileSync(file, serializeNotebook(onDisk));
    await page.waitForSelector('[role=alert]:has-text("changed on disk")', { timeout: 15_000 });
    await shot(page, '14-changed-on-disk');
    await page.click('button:has-text("Reload from disk")');
    await page.waitForSelector('[data-cell-id=from-disk]');
    expect(await page.locator('[role=alert]:has-text("changed on disk")').count()).toBe(0);
  });

  it('creates, renames and deletes a notebook from the tree', async () => {
    await page.click('button:has-text("+ New")');
    await page.fill('input[aria-label="Notebook name"]', 'notebooks/scratch');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid=doc-title]').textContent()).toContain('notebooks/scratch.ipynb');
    expect(parseNotebook(readFileSync(join(ws, 'notebooks', 'scratch.ipynb'), 'utf8'), 'scratch').cells).toHaveLength(1);
    const entry = page.locator('.notebook-entry:has([data-path="notebooks/scratch.ipynb"])');
    await entry.hover();
    await entry.locator('button[title=Rename]').click();
    await page.fill('input[aria-label="Notebook name"]', 'notebooks/renamed.ipynb');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid=doc-title]').textContent()).toContain('notebooks/renamed.ipynb');
    await shot(page, '15-renamed');
    page.once('dialog', (d) => void d.accept());
    const renamed = page.locator('.notebook-entry:has([data-path="notebooks/renamed.ipynb"])');
    await renamed.hover();
    await renamed.locator('button[title=Delete]').click();
    await expect.poll(() => page.locator('[data-path="notebooks/renamed.ipynb"]').count()).toBe(0);
    expect(existsSync(join(ws, 'notebooks', 'renamed.ipynb'))).toBe(false);
    expect(existsSync(join(ws, 'notebooks', 'scratch.ipynb'))).toBe(false);
  });

  it('edits Markdown cells from the keyboard: A, M, Enter, Shift+Enter renders, D,D deletes', async () => {
    await page.click('[data-testid=tree] >> text=chart.ipynb');
    await page.waitForSelector('[data-cell-id=table]');
    await cell('table').locator('.gutter').click();
    await page.keyboard.press('a');
    await page.keyboard.press('m');
    await editSelected('## Notes from **review**');
    await page.keyboard.press('Shift+Enter');
    const notes = page.locator('[data-testid=cell].markdown h2:has-text("Notes from review")');
    await expect.poll(() => notes.count()).toBe(1);
    await expect.poll(() => notes.locator('strong').textContent()).toBe('review');
    await shot(page, '16-markdown');
    await notes.click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('d');
    await page.keyboard.press('d');
    await expect.poll(() => notes.count()).toBe(0);
  });

  it('shows the shortcut list on H', async () => {
    await page.click('[data-testid=tree] >> text=chart.ipynb');
    await page.locator('[data-testid=notebook]').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Escape');
    await page.keyboard.press('h');
    await page.waitForSelector('[role=dialog] >> text=Keyboard shortcuts');
    await shot(page, '17-shortcuts');
    await page.click('[role=dialog] >> text=Close');
  });

  it('asked nothing of any host but 127.0.0.1, and refuses requests without the token', async () => {
    expect(offHost).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(403);
  });
});
