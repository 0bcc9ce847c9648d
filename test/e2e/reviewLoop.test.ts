// The reviewer's whole loop in Chromium against serve mode, on the demo set and the bundled model:
// import, run the model, filter one class's false positives, open an image and see its heatmap,
// switch method and target, tag three images by hotkey, reload, export, check the files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SALIENCY_METHODS } from '../../electron/contract/protocol';
import { browserSkipReason, openBrowser, screenshot } from '../helpers/browser';
import { importFolder, runModel } from '../helpers/reviewSteps';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const demo = path.join(repoRoot, 'models', 'demo', 'fashion-mnist');
const model = process.env.VSW_TEST_MODEL ?? path.join(repoRoot, 'models', 'fashion-vit');
const skip =
  browserSkipReason() ??
  (!fs.existsSync(path.join(model, 'model.onnx'))
    ? `the bundled model is missing (${path.relative(repoRoot, model)})`
    : null) ??
  (!fs.existsSync(demo) ? 'the demo dataset is missing' : null);
if (skip) console.log(`# skipping the review-loop browser test: ${skip}`);

/** Distinct colours drawn on the heatmap canvas: a real map is not one flat colour. */
async function heatmapColours(page: Page): Promise<{ distinct: number; signature: string }> {
  const heatmap = page.getByRole('img', { name: 'Heatmap', exact: true });
  await heatmap.waitFor();
  return heatmap.evaluate((canvas: HTMLCanvasElement) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set<number>();
    let signature = 0;
    for (let i = 0; i < data.length; i += 4) {
      seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      signature = (signature * 31 + data[i] + data[i + 2]) % 1_000_000_007;
    }
    return { distinct: seen.size, signature: String(signature) };
  });
}

test(
  'the review loop: import, predict, find false positives, explain, tag by hotkey, export',
  { skip: skip ?? false, timeout: 240_000 },
  async (t) => {
    const server = await startServe(t, tempDir(t, 'vsw-data-'));
    const exportDir = path.join(tempDir(t), 'negatives');
    const browser = await openBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    t.after(async () => {
      if (!page.isClosed()) await screenshot(page, 'review-loop-last-state');
    });

    try {
      // 1. Import the demo set.
      await page.goto(server.url);
      await importFolder(page, demo, 2000);

      // 2. Run the bundled model.
      await runModel(page, model);
      const jobs = page.getByRole('region', { name: 'Jobs' });
      assert.ok(
        (await jobs.getByRole('progressbar').count()) >= 1,
        'the jobs panel shows the prediction job',
      );

      // 3. Filter the false positives of one class.
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.getByRole('combobox', { name: 'Error type' }).selectOption({ label: 'False positives' });
      await page.getByRole('combobox', { name: 'Class', exact: true }).selectOption('Shirt');
      await page.getByRole('spinbutton', { name: 'Score threshold' }).fill('0.3');
      const grid = page.getByRole('grid', { name: 'Images' });
      const cells = grid.getByRole('gridcell');
      await cells.first().waitFor();
      const total = Number(
        (
          await page
            .getByRole('status', { name: 'Matching images' })
            .or(page.locator('output.total'))
            .first()
            .innerText()
        ).replace(/\D/g, ''),
      );
      assert.ok(total >= 3, `at least three Shirt false positives (got ${total})`);
      for (const name of await cells.evaluateAll((els) =>
        els.slice(0, 20).map((e) => e.getAttribute('aria-label')!),
      )) {
        assert.doesNotMatch(name, /^Shirt\//, 'a false positive of Shirt is not labelled Shirt');
      }
      await screenshot(page, 'review-grid-false-positives');
      await page.getByRole('checkbox', { name: 'Heatmaps in grid' }).check();
      await grid
        .getByRole('img', { name: /^Heatmap of / })
        .nth(2)
        .waitFor();
      await screenshot(page, 'review-grid-heatmaps');
      await page.getByRole('checkbox', { name: 'Heatmaps in grid' }).uncheck();

      // 4. Open one image: the heatmap is drawn and is not one flat colour.
      await cells.first().click();
      await page.keyboard.press('Enter');
      const first = await heatmapColours(page);
      assert.ok(first.distinct > 20, `the heatmap has many colours (got ${first.distinct})`);
      // The screenshot shows the whole view: scores listed and the photo under the map loaded.
      await page.getByRole('table', { name: 'Top-5 scores' }).getByRole('row').first().waitFor();
      await page.waitForFunction(() => {
        const photo = document.querySelector<HTMLImageElement>('.zoom-content img');
        return !!photo && photo.complete && photo.naturalWidth > 0;
      });
      await screenshot(page, 'image-view-single');

      // 5. Switch method and target: the drawing changes.
      await page.getByRole('combobox', { name: 'Method' }).selectOption('rollout');
      await page.waitForFunction(() =>
        document.querySelector('[aria-live=polite]')?.textContent?.includes('explaining'),
      );
      await page.getByRole('combobox', { name: 'Target class' }).selectOption('top2');
      await page.waitForTimeout(300);
      const switched = await heatmapColours(page);
      assert.notEqual(switched.signature, first.signature, 'another method and target draw another map');
      // Faithfulness of every map for the shown (top-2) class, with the random floor.
      const faithfulness = page.getByRole('region', { name: 'Faithfulness' });
      await faithfulness.getByRole('button', { name: /Score the maps/ }).click();
      await faithfulness.getByRole('table').waitFor({ timeout: 60_000 });
      const scoredRows = await faithfulness.getByRole('row').allInnerTexts();
      assert.equal(
        scoredRows.length,
        SALIENCY_METHODS.length + 2,
        'a header and one row per method plus the random map',
      );
      assert.ok(scoredRows.some((r) => r.startsWith('random')));
      await page.getByRole('combobox', { name: 'Compare' }).selectOption('methods');
      await page
        .getByRole('group', { name: 'Compare' })
        .getByRole('img', { name: 'Heatmap' })
        .nth(3)
        .waitFor();
      // Every method side by side explains the class the target selector names (top-2 here).
      const targetText = await page
        .getByRole('combobox', { name: 'Target class' })
        .locator('option:checked')
        .innerText();
      const top2 = /\((.+)\)/.exec(targetText)?.[1] ?? '';
      assert.ok(top2, `the target selector names the top-2 class (${targetText})`);
      const captions = page.getByRole('group', { name: 'Compare' }).locator('figcaption');
      await page.waitForFunction(
        ({ label, count }) => {
          let naming = 0;
          for (const c of document.querySelectorAll('[aria-label="Compare"] figcaption'))
            if (c.textContent?.includes(label)) naming++;
          return naming === count;
        },
        { label: top2, count: SALIENCY_METHODS.length },
      );
      assert.equal(await captions.count(), SALIENCY_METHODS.length);
      await screenshot(page, 'image-view-compare');
      await page.getByRole('combobox', { name: 'Compare' }).selectOption('none');

      // 6. Create a tag and apply it by hotkey to three images.
      await page.getByRole('textbox', { name: 'New tag' }).fill('crossed arms');
      await page.getByRole('button', { name: 'Add tag' }).click();
      await page.getByRole('checkbox', { name: 'crossed arms' }).waitFor();
      await page.keyboard.press('Escape');
      await grid.focus();
      await cells.first().click();
      const tagged: string[] = [];
      for (let i = 0; i < 3; i++) {
        tagged.push((await grid.locator('.cell.focused').getAttribute('aria-label'))!);
        await page.keyboard.press('1');
        await page.keyboard.press('ArrowRight');
      }
      await page
        .getByRole('status', { name: 'Status' })
        .or(page.locator('output[aria-label=Status]'))
        .first()
        .getByText('Tagged')
        .waitFor();

      // 7. Reload: the tags are still there.
      await page.reload();
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.getByRole('listbox', { name: 'Tag filter' }).selectOption({ label: 'crossed arms (3)' });
      await grid.getByRole('gridcell').first().waitFor();
      const afterReload = await grid
        .getByRole('gridcell')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      assert.deepEqual([...afterReload].sort(), [...tagged].sort());

      // 8. Export, and check the files on disk.
      await page.getByRole('button', { name: 'Export' }).click();
      const dialog = page.getByRole('dialog', { name: 'Export' });
      await dialog.getByRole('textbox', { name: 'Destination folder' }).fill(exportDir);
      await dialog.getByRole('button', { name: 'Start export' }).click();
      await dialog.getByLabel('Export result').waitFor({ timeout: 60_000 });
      const exported = fs.readdirSync(path.join(exportDir, 'crossed arms'));
      assert.equal(exported.length, 3);
      assert.ok(fs.existsSync(path.join(exportDir, 'export.json')));
      const csv = fs.readFileSync(
        fs
          .readdirSync(exportDir)
          .map((f) => path.join(exportDir, f))
          .find((f) => f.endsWith('.csv'))!,
        'utf8',
      );
      for (const rel of tagged) assert.ok(csv.includes(rel), `${rel} is in the manifest`);
      await page.keyboard.press('Escape');

      await page.getByRole('tab', { name: 'Stats' }).click();
      await page.getByRole('region', { name: 'Confusion matrix' }).waitFor();
      await screenshot(page, 'stats');
      await page.getByRole('region', { name: 'Confusion matrix' }).scrollIntoViewIfNeeded();
      await screenshot(page, 'stats-confusion-matrix');
    } catch (error) {
      await screenshot(page, 'review-loop-failure');
      console.log('# page errors:', errors.join(' | '));
      throw error;
    }
    assert.deepEqual(errors, []);
  },
);
