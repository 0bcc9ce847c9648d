// Compare runs in Chromium against serve mode: the shortcut model (A) and the clean one (B) over the
// clean and cued demo sets; the matched-recall numbers read from the page equal `vsw compare --json`
// on the same data dir, at A's arg-max recall and at a typed recall; both curves and both operating
// points are drawn; a refused comparison shows its reason.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { formatChange, formatCi, type CompareResult } from '../../electron/contract/compare';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { buildCompareDemo, compareDemoMissing } from '../helpers/compareDemo';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';
import { vswOk } from '../integration/core/coreKit';

const skip = browserSkipReason() ?? compareDemoMissing();
if (skip) console.log(`# skipping the compare-runs browser test: ${skip}`);

/** The cells of each body row of a table, by the row's header. */
async function tableRows(page: Page, name: string): Promise<Map<string, string[]>> {
  const rows = await page
    .getByRole('table', { name })
    .locator('tbody tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => (c.textContent ?? '').trim())),
    );
  return new Map(rows.map(([head, ...cells]) => [head, cells]));
}

/** The page's matched-recall table says exactly what `vsw compare --json` says. */
async function assertPageShows(page: Page, expected: CompareResult): Promise<void> {
  await page
    .getByRole('status', { name: 'Matched recall' })
    .filter({ hasText: expected.matchedRecall.toFixed(4) })
    .waitFor({ timeout: 30_000 });
  await page.getByText('Computing…').waitFor({ state: 'detached' });
  const runs = await tableRows(page, 'Runs at matched recall');
  assert.deepEqual(
    [...runs.values()],
    expected.runs.map((r) => [
      r.threshold.toFixed(4),
      r.recall.toFixed(4),
      String(r.falsePositives),
      r.precision!.toFixed(4),
    ]),
  );
  const fps = await tableRows(page, 'False positives at matched recall');
  const row = (
    c: { a: number; b: number; changePct: number | null; ci95: [number, number] | null },
    images: number,
  ) => [String(images), String(c.a), String(c.b), formatChange(c.changePct), formatCi(c.ci95)];
  assert.deepEqual(
    Object.fromEntries(fps),
    Object.fromEntries([
      ['overall', row(expected.overall, expected.images)],
      ...expected.patterns.map((p) => [`tag ${p.tag}`, row(p, p.images)]),
      ['untagged', row(expected.untagged, expected.untagged.images)],
    ]),
  );
}

test(
  'Compare runs shows the matched-recall table and curves that vsw compare --json computes',
  { skip: skip ?? false, timeout: 300_000 },
  async (t) => {
    const dataDir = path.join(tempDir(t, 'vsw-compare-ui-'), 'data');
    const { runA, runB } = await buildCompareDemo(dataDir);
    const cli = (...args: string[]) =>
      JSON.parse(
        vswOk(
          'compare',
          '--dataset',
          'demo',
          '--run',
          String(runA),
          '--run',
          String(runB),
          '--class',
          'Shirt',
          '--json',
          '--data-dir',
          dataDir,
          ...args,
        ),
      ) as CompareResult;
    const server = await startServe(t, dataDir);
    const { page, pageErrors } = await openPage(t, { width: 1440, height: 1100 });
    await page.goto(server.url);
    await page.getByRole('tab', { name: 'Compare runs' }).click();
    // The defaults are the two latest runs, older first: the shortcut model is the base.
    const form = page.getByRole('region', { name: 'Runs to compare' });
    assert.equal(await form.getByRole('combobox', { name: 'Run A (base)' }).inputValue(), String(runA));
    assert.equal(await form.getByRole('combobox', { name: 'Run B' }).inputValue(), String(runB));
    await form.getByRole('combobox', { name: 'Positive class' }).selectOption('Shirt');

    const atArgmax = cli();
    await assertPageShows(page, atArgmax);
    // Both curves, the matched-recall line and both operating points are drawn.
    const chart = page.getByRole('figure', { name: 'Precision–recall curves' });
    assert.equal(await chart.locator('.recharts-line path.recharts-curve').count(), 2);
    assert.equal(await chart.locator('.recharts-reference-dot').count(), 2);
    await chart.getByText(`matched recall ${atArgmax.matchedRecall.toFixed(3)}`).waitFor();
    await page.mouse.move(0, 0);
    const shot = await screenshot(page, 'compare-runs');
    // VSW_README_SCREENSHOT=1 refreshes the README's picture of this view.
    if (process.env.VSW_README_SCREENSHOT === '1')
      fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'screenshots', 'compare-runs.png'));

    // A typed recall: the page and the CLI move together.
    await form.getByRole('textbox', { name: 'Recall to match' }).fill('0.9');
    await assertPageShows(page, cli('--recall', '0.9'));
    await screenshot(page, 'compare-runs-recall-0.9');

    // A bad recall is said, not sent; a refused comparison shows the service's reason.
    await form.getByRole('textbox', { name: 'Recall to match' }).fill('1.5');
    await page.getByRole('alert').filter({ hasText: 'The recall must be above 0 and at most 1' }).waitFor();
    await form.getByRole('textbox', { name: 'Recall to match' }).fill('');
    await form.getByRole('combobox', { name: 'Images' }).selectOption('test');
    await page
      .getByRole('alert')
      .filter({ hasText: 'no labelled image of "demo" is in the test split' })
      .waitFor();
    await screenshot(page, 'compare-runs-refused');
    assert.deepEqual(pageErrors, []);
  },
);
