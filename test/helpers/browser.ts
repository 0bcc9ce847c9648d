// Debian's Chromium driven by playwright-core, headless, with screenshots into test-artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './serveProcess';

export const CHROMIUM = process.env.VSW_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(repoRoot, 'test-artifacts');

/** Why browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  return fs.existsSync(CHROMIUM)
    ? null
    : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set VSW_CHROMIUM)`;
}

export async function openBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  t.after(() => browser.close());
  return browser;
}

/** A page of its own browser at the given size, and the uncaught page errors it collects. */
export async function openPage(
  t: TestContext,
  viewport: { width: number; height: number },
): Promise<{ page: Page; pageErrors: string[] }> {
  const browser = await openBrowser(t);
  const page = await browser.newPage({ viewport });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { page, pageErrors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
