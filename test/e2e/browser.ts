import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download), as `.ci/run` installs it.
 * Tests skip with a message where it is missing, except in CI, where a missing browser is a failure.
 */
export const CHROMIUM = process.env.LREF_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

export function skipWithoutChromium(): boolean {
  if (HAVE_CHROMIUM) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run must install Debian's chromium`);
  console.warn(`[browser tests] skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return true;
}

export async function launch(viewport = { width: 1400, height: 900 }): Promise<{ context: BrowserContext; page: Page; offHost: string[] }> {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'lref-chromium-')), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Every request the page makes must stay on this machine's loopback server.
  const offHost: string[] = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(u) && !u.startsWith('data:') && !u.startsWith('blob:')) offHost.push(u);
  });
  page.on('pageerror', (e) => console.warn(`[page error] ${e.message}`));
  return { context, page, offHost };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
