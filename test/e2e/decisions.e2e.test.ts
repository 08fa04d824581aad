import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, RENDERER_DIST, rendererBuildNeeded } from '../../core/app/renderer-build.ts';
import { startBrowserServer, type BrowserServer } from '../../core/app/server.ts';
import { AppService } from '../../core/app/service.ts';
import { main } from '../../core/cli/main.ts';
import { newCodeCell, newNotebook, serializeNotebook } from '../../core/kernel/nbformat.ts';
import { bufferIO } from '../helpers/io.ts';
import { launch, shot, skipWithoutChromium } from './browser.ts';

/**
 * The decision matrix on a real smoke pipeline run, checked against numbers computed here from the
 * run's own predictions.jsonl: row counts under filters, a confusion cell, a rationale diff, and a
 * human mark that survives a reload and reaches the export.
 */
const skip = skipWithoutChromium();

interface Pred {
  pair_id: string;
  variant: string;
  label: string | null;
  split?: string;
}

describe.skipIf(skip)('the decision matrix of a smoke run, in Chromium', () => {
  let server: BrowserServer;
  let service: AppService;
  let context: BrowserContext;
  let page: Page;
  let offHost: string[];
  const ws = mkdtempSync(join(tmpdir(), 'lref-decisions-e2e-'));
  const run = join(ws, 'runs', 'smoke');
  let preds: Pred[];
  let pairs: { pair_id: string; label: string }[];

  beforeAll(async () => {
    mkdirSync(join(ws, 'runs'));
    const io = bufferIO();
    expect(await main(['pipeline', '--preset', 'smoke', '--out', run], io)).toBe(0);
    preds = readFileSync(join(run, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Pred).filter((p) => p.split === undefined || p.split === 'test');
    pairs = readFileSync(join(run, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    if (rendererBuildNeeded()) buildRenderer();
    service = new AppService({ workspace: ws, shell: 'browser' });
    server = await startBrowserServer({ service, staticDir: RENDERER_DIST });
    ({ context, page, offHost } = await launch({ width: 1500, height: 950 }));
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await service?.dispose();
  });

  const label = (pair: string, variant: string) => preds.find((p) => p.pair_id === pair && p.variant === variant)?.label;
  const gridRows = async () => Number(await page.locator('[data-testid=decision-grid]').getAttribute('data-rows'));
  const choose = async (variants: string[]) => {
    for (const box of await page.locator('.column-picker label').all()) {
      const name = (await box.textContent())!.trim();
      const on = (await box.locator('input').isChecked()) as boolean;
      if (on !== variants.includes(name)) await box.locator('input').click();
    }
  };

  it('opens a run from the tree and shows its test pairs', async () => {
    await page.goto(server.url);
    await page.click('[data-path="runs/smoke"]');
    await page.waitForSelector('[data-testid=decision-grid]');
    await expect.poll(gridRows).toBe(pairs.length);
    expect(await page.locator('[data-testid=decision-grid] [role=row]').count()).toBeGreaterThan(5);
    await shot(page, 'decisions-01-open');
  });

  it('"different" and "changed" filters give the counts predictions.jsonl gives', async () => {
    const chosen = ['sft_all', '+dr', '+dpo'];
    await choose(chosen);
    const different = pairs.filter((p) => new Set(chosen.map((v) => label(p.pair_id, v))).size > 1).length;
    await page.click('[data-filter=different]');
    await expect.poll(gridRows).toBe(different);
    await page.click('[data-filter=different]');
    for (const [from, to] of [
      ['+dr', '+dpo'],
      ['sft_all', '+dr'],
    ]) {
      await page.selectOption('select[aria-label="Compare from"]', { label: from });
      await page.selectOption('select[aria-label="Compare to"]', { label: to });
      const changed = pairs.filter((p) => label(p.pair_id, from) !== label(p.pair_id, to)).length;
      const fixed = pairs.filter((p) => label(p.pair_id, from) !== p.label && label(p.pair_id, to) === p.label).length;
      await page.click('[data-filter=changed-any]');
      await expect.poll(gridRows).toBe(changed);
      await page.click('[data-filter=changed-fixed]');
      await expect.poll(gridRows).toBe(fixed);
      await page.click('[data-filter=changed-fixed]');
      console.log(`[decisions e2e] ${from} → ${to}: ${changed} changed, ${fixed} fixed of ${pairs.length}`);
    }
    await page.click('[data-filter=changed-any]');
    await expect.poll(gridRows).toBe(changed(['sft_all', '+dr']));
    await shot(page, 'decisions-02-changed');
    await page.click('[data-filter=changed-any]');
    await expect.poll(gridRows).toBe(pairs.length);
  });

  function changed([from, to]: string[]) {
    return pairs.filter((p) => label(p.pair_id, from) !== label(p.pair_id, to)).length;
  }

  it('clicking a confusion-matrix cell filters the grid to that cell', async () => {
    const cell = page.locator('[data-testid=confusion] td.clickable').first();
    const n = Number(await cell.textContent());
    await cell.click();
    await expect.poll(gridRows).toBe(n);
    await shot(page, 'decisions-03-confusion-cell');
    await page.click('button:has-text("cell:")');
    await expect.poll(gridRows).toBe(pairs.length);
  });

  it('opens a pair with each column\'s rationale and a word diff', async () => {
    const withRationale = preds.find((p) => p.variant === '+dr' && p.label !== null && (p as { rationale?: string }).rationale)?.pair_id ?? pairs[0].pair_id;
    await page.fill('input[aria-label=Search]', '');
    await page.locator(`[data-pair="${withRationale}"]`).scrollIntoViewIfNeeded();
    await page.click(`[data-pair="${withRationale}"]`);
    await page.waitForSelector('[data-testid=pair-panel]');
    await page.selectOption('select[aria-label="Diff from"]', { label: 'sft_all' });
    await page.selectOption('select[aria-label="Diff to"]', { label: '+dr' });
    await expect.poll(() => page.locator('[data-testid=rationale-diff] span').count()).toBeGreaterThan(0);
    await shot(page, 'decisions-04-pair-diff');
  });

  it('a human mark from the keyboard survives a reload and reaches the export', async () => {
    const target = pairs[2].pair_id;
    await page.click(`[data-pair="${target}"]`);
    await page.locator('[data-testid=decision-grid]').focus();
    await page.keyboard.press('5'); // Irrelevant
    await expect.poll(() => page.locator(`[data-pair="${target}"] [data-testid=mark-cell]`).textContent()).toBe('Irrelevant');
    await page.reload();
    await page.waitForSelector(`[data-pair="${target}"]`);
    await expect.poll(() => page.locator(`[data-pair="${target}"] [data-testid=mark-cell]`).textContent()).toBe('Irrelevant');
    expect(page.url()).toContain(`sel=${target}`); // the view, selection included, lives in the URL
    await page.click('button:has-text("Export review")');
    await page.waitForSelector('.toast:has-text("Exported")');
    const gold = readFileSync(join(run, 'review', 'corrected-gold.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(gold.find((g) => g.pair_id === target).label).toBe('Irrelevant');
    const prefs = readFileSync(join(run, 'review', 'dpo-pairs.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const others = new Set(preds.filter((p) => p.pair_id === target && p.label && p.label !== 'Irrelevant').map((p) => p.label));
    expect(prefs.filter((p) => p.pair_id === target)).toHaveLength(others.size);
    await shot(page, 'decisions-05-marked');
  });

  it('shows the run\'s metrics on test and valid, per grade, with a chart', async () => {
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    await page.click('[role=tab]:has-text("Metrics")');
    await page.waitForSelector('[data-testid=metrics-panel] table');
    await expect.poll(() => page.locator('[data-testid=metrics-panel] .table-output').first().locator('tbody tr').count()).toBe(metrics.variants.length);
    await page.waitForSelector('[data-testid=metrics-panel] .vega-output svg', { timeout: 30_000 });
    await page.selectOption('select[aria-label=Split]', 'valid');
    await expect.poll(() => page.locator('[data-testid=metrics-panel] .table-output').first().locator('tbody tr').count()).toBe(metrics.valid_variants.length);
    await shot(page, 'decisions-05b-metrics');
    expect(page.url()).toContain('tab=metrics');
    // Stage 1: every training pair's verdict, counted as selection.jsonl counts it
    const selection = readFileSync(join(run, 'selection.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    await page.click('[role=tab]:has-text("Stage 1")');
    await expect.poll(() => page.locator('[data-testid=stage1-kept]').textContent()).toBe(`kept ${selection.filter((r) => r.kept).length} of ${selection.length} training pairs`);
    await page.waitForSelector('[data-testid=stage1-panel] .table-title:has-text("Query band mix")');
    // each training pair with its query and product text, as the data had them
    expect(selection[0].query).toBeTruthy();
    await expect.poll(() => page.locator('[data-testid=stage1-panel] tbody tr').filter({ hasText: selection[0].pair_id }).first().textContent()).toContain(selection[0].title);
    await shot(page, 'decisions-05c-stage1');
    await page.click('[role=tab]:has-text("Decisions")');
    await page.waitForSelector('[data-testid=decision-grid]');
  });

  it('saves the current filters as a slice and ranks slices by the gap between two variants', async () => {
    await page.selectOption('select[aria-label="Compare from"]', { label: 'sft_all' });
    await page.selectOption('select[aria-label="Compare to"]', { label: '+dr' });
    await page.click('[data-filter=optimistic]');
    await page.fill('input[aria-label="Slice name"]', 'optimistic errors');
    await page.click('.slice-save button');
    await page.waitForSelector('.slice-row:has-text("optimistic errors")');
    expect(JSON.parse(readFileSync(join(ws, 'slices.json'), 'utf8')).slices[0]).toEqual({ name: 'optimistic errors', filters: { optimistic: true } });
    await page.click('[data-filter=optimistic]');
    await expect.poll(() => page.locator('[data-testid=slice-gaps] tr').count()).toBeGreaterThan(0);
    // the saved slice's figures for every chosen column
    await expect.poll(() => page.locator('[data-testid=slice-figures] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-testid=slice-figures] thead th').allTextContents()).toEqual(['slice', 'sft_all', '+dr', '+dpo']);
    await shot(page, 'decisions-06-slices');
    await page.click('.slice-row button:has-text("optimistic errors")');
    await expect.poll(() => page.locator('[data-filter=optimistic]').getAttribute('aria-pressed')).toBe('true');
    await page.click('[data-filter=optimistic]');
  });

  it('the runs page lists runs, diffs two and opens them side by side', async () => {
    // A second run: a copy of the first with one config value changed, which is all the page needs.
    const b = join(ws, 'runs', 'smoke-b');
    cpSync(run, b, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(b, 'run.json'), 'utf8'));
    manifest.id = `${manifest.id}-b`;
    manifest.config.dpo.train.beta = 0.5;
    writeFileSync(join(b, 'run.json'), JSON.stringify(manifest));
    const metrics = JSON.parse(readFileSync(join(b, 'metrics.json'), 'utf8'));
    metrics.run_id = manifest.id;
    writeFileSync(join(b, 'metrics.json'), JSON.stringify(metrics));
    await page.click('button:has-text("Runs")');
    await page.waitForSelector('[data-testid=runs-page] [data-run="runs/smoke-b"]');
    await page.click('[data-run="runs/smoke"]');
    await page.click('[data-run="runs/smoke-b"]');
    await expect.poll(() => page.locator('[data-testid=run-diff]').textContent()).toContain('dpo.train.beta');
    await shot(page, 'decisions-07-runs-diff');
    await page.click('button:has-text("Open decisions side by side")');
    await page.waitForSelector('[data-testid=decision-grid]');
    const names = await page.locator('.column-picker label').allTextContents();
    expect(names).toContain('runs/smoke/+dpo');
    expect(names).toContain('runs/smoke-b/+dpo');
    await expect.poll(gridRows).toBe(pairs.length);
  });

  it('display.decisions in a notebook shows the live matrix and opens it in the workbench', async () => {
    mkdirSync(join(ws, 'notebooks'), { recursive: true });
    const code = "display.decisions({ runs: ['../runs/smoke'], columns: ['runs/smoke/sft_all', 'runs/smoke/+dr'], filters: { errors: true, focus: 'runs/smoke/+dr' } });";
    writeFileSync(join(ws, 'notebooks', 'review.ipynb'), serializeNotebook(newNotebook([newCodeCell(code, 'show')])));
    await page.goto(server.url + '#nb=notebooks/review.ipynb');
    await page.reload(); // only the hash changed: reload so the app opens the notebook it names
    await page.waitForSelector('[data-cell-id=show]');
    await page.waitForSelector('[data-testid=kernel-status][data-state=idle]', { timeout: 60_000 });
    await page.click('button:has-text("▶▶ Run all")');
    const errorsInDr = pairs.filter((p) => label(p.pair_id, '+dr') !== p.label).length;
    await expect.poll(() => page.locator('[data-testid=decisions-output] b').first().textContent(), { timeout: 60_000 }).toBe(String(errorsInDr));
    await shot(page, 'decisions-08-notebook-output');
    await page.click('[data-testid=decisions-output] button:has-text("open in workbench")');
    await page.waitForSelector('[data-testid=decision-grid]');
    await expect.poll(gridRows).toBe(errorsInDr);
    expect(await page.locator('[data-filter=errors]').getAttribute('aria-pressed')).toBe('true');
  });

  it('prototypes a prompt: checked as typed, compared with the built-in in a kernel, opened as columns', async () => {
    await page.goto(server.url);
    await page.click('button:has-text("+ Prompt")');
    await page.fill('input[aria-label="Notebook name"]', 'label-title-only');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=prompt-page] .monaco-editor');
    await expect.poll(() => page.locator('[data-testid=template-check]').textContent()).toContain('valid template');
    const edited = {
      id: 'label-title-only',
      version: 1,
      kind: 'label',
      prompt: '<bos><query> {query}<product> {title}[, {colour}]<answer>',
      highlight: true,
    };
    await page.locator('[data-testid=prompt-page] .monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify(edited));
    await expect.poll(() => page.locator('[data-testid=template-check]').textContent()).toContain('colour');
    await shot(page, 'decisions-09-prompt-unknown-placeholder');
    await expect.poll(() => page.locator('[data-testid=prompt-page] .squiggly-error').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=compare]').isDisabled()).toBe(true);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ ...edited, prompt: '<bos><query> {query}<product> {title}<answer>' }));
    await expect.poll(() => page.locator('[data-testid=template-check]').textContent()).toContain('valid template');
    await page.click('[data-testid=prompt-page] button:has-text("Save")');
    await expect.poll(() => JSON.parse(readFileSync(join(ws, 'prompts', 'label-title-only.json'), 'utf8')).prompt).toBe('<bos><query> {query}<product> {title}<answer>');
    await page.fill('input[aria-label=pairs]', '300');
    await page.fill('input[aria-label=steps]', '20');
    await page.click('[data-testid=compare]');
    await page.waitForSelector('[data-testid=compare-outputs] [role=progressbar]', { timeout: 120_000 });
    await shot(page, 'decisions-10-prompt-comparing');
    await page.waitForSelector('[data-testid=decision-grid]', { timeout: 240_000 });
    const names = await page.locator('.column-picker label').allTextContents();
    expect(names).toEqual(['label', 'label-title-only']);
    const [out] = readdirSync(join(ws, 'prompt-runs')).filter((d) => d.includes('label-vs-label-title-only'));
    const testPairs = readFileSync(join(ws, 'prompt-runs', out, 'pairs.jsonl'), 'utf8').trim().split('\n').length;
    await expect.poll(gridRows).toBe(testPairs);
    expect(await page.locator('[data-testid=decision-grid] [role=columnheader]:has-text("label-title-only") .col-acc').textContent()).toMatch(/\d+%/);
    await shot(page, 'decisions-11-prompt-columns');
  });

  it('asked nothing off 127.0.0.1', () => {
    expect(offHost).toEqual([]);
  });
});
