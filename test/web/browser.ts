import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium; playwright-core never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** For `describe(…, { skip })`: false when Chromium is installed, otherwise why the tests are skipped. */
export const skipWithoutChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `browser tests skipped: no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A browser context that may only talk to 127.0.0.1: any other request is aborted and reported,
 * so a test fails if the app ever reaches for a CDN, a font host or anything outside Tend.
 */
export async function localContext(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true, ...options });
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.fallback();
    problems.push(`request outside 127.0.0.1: ${url.href}`);
    return route.abort();
  });
  return { context, problems };
}

/**
 * Records what means trouble on a page: any dialog (an injected `alert` would open one), uncaught
 * errors, and console errors other than the browser's own note about a failed (e.g. 401) request.
 */
export function watch(page: Page, problems: string[]): void {
  page.on('dialog', (dialog) => {
    problems.push(`dialog opened: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
}

/** Saves a full-page screenshot when TEND_SCREENSHOTS names a folder (to look at the app's pages). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.TEND_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Polls `check` until it returns a value other than undefined (or fails after `ms`). */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens the web app at `hash` in a fresh context and signs in with the admin token. */
export async function signIn(browser: Browser, url: string, token: string, hash = ''): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
  const { context, problems } = await localContext(browser);
  const page = await context.newPage();
  watch(page, problems);
  await page.goto(`${url}/${hash}`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('.workspace-name');
  return { page, problems, close: () => context.close() };
}
