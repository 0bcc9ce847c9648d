// The reviewer's day, second part, in Chromium against serve mode: a cancelled run stays partial
// (marked, never picked, its counts agree) and is resumed and deleted from the window; the cued
// demo's masks are attached, not imported, filtered on and outlined in the image view; a hundred
// tags on one image end in "+N" chips and a searchable tag filter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const demo = path.join(repoRoot, 'models', 'demo', 'fashion-mnist');
const cued = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued');
const model = path.join(repoRoot, 'models', 'fashion-vit');
const shortcut = path.join(repoRoot, 'models', 'fashion-vit-shortcut');
const skip =
  browserSkipReason() ??
  ([model, shortcut].some((m) => !fs.existsSync(path.join(m, 'model.onnx')))
    ? 'a bundled model is missing'
    : null) ??
  (!fs.existsSync(cued) ? 'the cued demo dataset is missing' : null);
if (skip) console.log(`# skipping the masks-and-runs browser test: ${skip}`);

async function importFolder(page: Page, folder: string, added: string): Promise<void> {
  await page.getByRole('tab', { name: 'Datasets' }).click();
  await page.getByRole('textbox', { name: 'Dataset folder' }).fill(folder);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('region', { name: 'Import report' }).getByText(added).waitFor({ timeout: 90_000 });
}

/** Cyan (the outline's colour) pixels drawn on the mask outline canvas. */
function outlinePixels(page: Page): Promise<number> {
  return page.getByRole('img', { name: 'Mask outline' }).evaluate((canvas: HTMLCanvasElement) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if (data[i] === 0 && data[i + 1] === 255 && data[i + 3] === 255) n++;
    return n;
  });
}

test(
  'partial runs are marked, resumed and deleted; masks are attached, filtered and outlined; +N chips',
  { skip: skip ?? false, timeout: 300_000 },
  async (t) => {
    const dataDir = tempDir(t, 'vsw-data-');
    const server = await startServe(t, dataDir);
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 900 });
    try {
      await page.goto(server.url);

      // 1. A run cancelled part-way: partial everywhere, not picked, and its counts agree.
      await importFolder(page, demo, '2000 added');
      await page.getByRole('combobox', { name: 'Model' }).fill(model);
      await page.getByRole('button', { name: 'Run model' }).click();
      const jobs = page.getByRole('region', { name: 'Jobs' });
      await page.waitForFunction(() => {
        const bar = document.querySelector<HTMLProgressElement>('[aria-label="Jobs"] progress');
        return !!bar && bar.value >= 64;
      });
      await jobs.getByRole('button', { name: 'Cancel' }).click();
      const runs = page.getByRole('region', { name: 'Runs' });
      await runs.getByText('partial · cancelled').waitFor({ timeout: 30_000 });
      assert.equal(
        await page.getByRole('combobox', { name: 'Run' }).inputValue(),
        '',
        'a partial run is never chosen for the reviewer',
      );
      const predicted = Number(
        /([\d,]+) of 2,000 predicted/.exec(await runs.innerText())![1].replace(/,/g, ''),
      );
      await jobs.getByRole('checkbox', { name: 'Show finished' }).check();
      const jobLine = await jobs.locator('.job.cancelled').innerText();
      assert.match(jobLine, /fashion-vit on fashion-mnist/, 'the job names its model and dataset');
      assert.ok(
        jobLine.includes(`${predicted.toLocaleString('en-US')} / 2,000 · cancelled`),
        `the job's count and the run's agree: ${jobLine} vs ${predicted}`,
      );
      assert.match(
        await page.getByRole('combobox', { name: 'Run' }).locator('option').nth(1).innerText(),
        new RegExp(`partial: cancelled at ${predicted.toLocaleString('en-US')} predictions`),
      );
      await screenshot(page, 'runs-partial');
      await runs.getByRole('button', { name: 'Resume' }).click();
      await runs.getByText('2,000 of 2,000 predicted').waitFor({ timeout: 120_000 });
      await page.waitForFunction(
        () => document.querySelector<HTMLSelectElement>('select[aria-label="Run"]')?.value === '1',
      );
      await runs.getByRole('button', { name: 'Delete run 1' }).click();
      await runs.getByRole('button', { name: 'Delete run #1 and its predictions' }).click();
      await page.waitForFunction(() => !document.querySelector('input[aria-label="Run 1"]'));
      assert.equal(await page.getByRole('combobox', { name: 'Run' }).inputValue(), '');

      // 2. The cued demo: its masks/ folder is attached to the images, not imported as images.
      await importFolder(page, cued, '450 added');
      const report = await page.getByRole('region', { name: 'Import report' }).innerText();
      assert.match(report, /450 attached \(the masks folder was not imported as images\)/);
      assert.match(await page.getByRole('region', { name: 'Dataset' }).innerText(), /450 images/);
      await page.getByRole('combobox', { name: 'Model' }).fill(shortcut);
      await page.getByRole('button', { name: 'Run model' }).click();
      await runs.getByText('450 of 450 predicted').waitFor({ timeout: 120_000 });

      // A hundred tags on one image (the CLI, beside the running service).
      const first = 'images/Ankle boot/00000.png';
      const names = Array.from({ length: 100 }, (_, i) => `pattern ${String(i + 1).padStart(3, '0')}`);
      const tagged = spawnSync(
        process.execPath,
        [
          path.join(repoRoot, 'bin', 'vsw.js'),
          'tag',
          '--dataset',
          'fashion-mnist-cued',
          '--image',
          first,
          ...names.flatMap((n) => ['--add', n]),
          '--data-dir',
          dataDir,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(tagged.status, 0, tagged.stderr);
      await page.reload();

      // 3. Has mask: every image; the tile ends its chips in "+N" and names every tag.
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.getByRole('checkbox', { name: 'Has mask' }).check();
      await page.getByText('Has mask (450)').waitFor();
      const grid = page.getByRole('grid', { name: 'Images' });
      const cell = grid.locator(`[data-path="${first}"]`);
      await cell.waitFor();
      assert.equal(await cell.locator('.chip.more').innerText(), '+99');
      assert.equal(await cell.locator('.chip').first().innerText(), 'pattern 001');
      const name = (await cell.getAttribute('aria-label'))!;
      for (const n of names) assert.ok(name.includes(n), `${n} is in the cell's accessible name`);
      assert.ok((await cell.getAttribute('title'))!.includes('pattern 100'));
      // Badges shorten a long class name, never the score.
      const scores = await grid
        .locator('.badge-number')
        .evaluateAll((els) => els.map((e) => [e.textContent, e.scrollWidth <= e.clientWidth] as const));
      assert.ok(scores.length > 20);
      for (const [text, whole] of scores)
        assert.ok(whole && /^\d\.\d\d$/.test(text ?? ''), `score badge "${text}"`);
      await screenshot(page, 'grid-masks-and-chips');

      // The tag filter scales to a hundred tags: it scrolls, and the search narrows it.
      await page.locator('.tag-filter summary').click();
      const listbox = page.getByRole('listbox', { name: 'Tag filter' });
      assert.equal(await listbox.getByRole('option').count(), 100);
      const box = (await listbox.boundingBox())!;
      assert.ok(box.height <= 300, `the list scrolls instead of growing (${box.height} px)`);
      await page.getByRole('searchbox', { name: 'Search tags' }).fill('pattern 05');
      assert.equal(await listbox.getByRole('option').count(), 10);
      await screenshot(page, 'tag-filter-100-tags');
      await listbox.getByRole('option', { name: /^pattern 050 \(1\)$/ }).click();
      await page.locator('.tag-filter summary').click();
      await page.waitForFunction(() => document.querySelectorAll('[role=gridcell]').length === 1);

      // 4. The image view outlines the mask, with a toggle; a reload keeps the image open.
      await cell.dblclick();
      await page.getByRole('img', { name: 'Mask outline' }).waitFor();
      await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor();
      await page.waitForFunction(() => {
        const c = document.querySelector<HTMLCanvasElement>('canvas[aria-label="Mask outline"]');
        const d = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        return !!d && d.some((v, i) => i % 4 === 3 && v === 255);
      });
      const outline = await outlinePixels(page);
      assert.ok(outline > 50, `the mask's outline is drawn (${outline} px)`);
      await page.waitForFunction(() => {
        const photo = document.querySelector<HTMLImageElement>('.zoom-content img');
        return !!photo && photo.complete && photo.naturalWidth > 0;
      });
      const shot = await screenshot(page, 'image-view-mask');
      // VSW_README_SCREENSHOT=1 refreshes the README's picture of the image view from this state.
      if (process.env.VSW_README_SCREENSHOT === '1')
        fs.copyFileSync(shot, path.join(repoRoot, 'docs', 'screenshots', 'image-view.png'));
      await page.getByRole('checkbox', { name: 'Mask outline' }).uncheck();
      assert.equal(await page.getByRole('img', { name: 'Mask outline' }).count(), 0);
      await page.getByRole('checkbox', { name: 'Mask outline' }).check();
      await page.reload();
      await page.getByRole('img', { name: 'Mask outline' }).waitFor();
      assert.equal(await page.locator('.image-toolbar strong').innerText(), first);
    } catch (error) {
      await screenshot(page, 'masks-and-runs-failure');
      console.log('# page errors:', errors.join(' | '));
      throw error;
    }
    assert.deepEqual(errors, []);
  },
);
