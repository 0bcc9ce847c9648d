// The reviewer's whole loop in Chromium against serve mode, on the demo set and the bundled model:
// import, run the model, filter one class's false positives, open an image and see its heatmap,
// switch method and target, tag three images by hotkey, reload, export, check the files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SALIENCY_METHODS } from '../../electron/contract/protocol';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { createTag, importFolder, runModel, waitForGridImages } from '../helpers/reviewSteps';
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
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 900 });
    t.after(async () => {
      if (!page.isClosed()) await screenshot(page, 'review-loop-last-state');
    });

    try {
      // 1. Import the demo set.
      await page.goto(server.url);
      await importFolder(page, demo, 2000);

      // 2. Run the bundled model.
      await runModel(page, model);
      // The jobs drawer lists running jobs; finished ones on request, each naming model and dataset.
      const jobs = page.getByRole('region', { name: 'Jobs' });
      await jobs.getByText('0 running').waitFor();
      assert.equal(await jobs.getByRole('progressbar').count(), 0, 'finished jobs are hidden by default');
      await jobs.getByRole('checkbox', { name: 'Show finished' }).check();
      assert.ok((await jobs.getByRole('progressbar').count()) >= 1, 'the drawer shows the prediction job');
      assert.match(await jobs.innerText(), /fashion-vit on fashion-mnist/);
      await jobs.getByRole('checkbox', { name: 'Show finished' }).uncheck();

      // 3. False positives with no class: everything misclassified at the threshold, and the count
      // says so. Then the false positives of one class.
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.getByRole('combobox', { name: 'Error type' }).selectOption({ label: 'False positives' });
      const matching = page.locator('output[aria-label="Matching images"]');
      await page.waitForFunction(() =>
        document
          .querySelector('output[aria-label="Matching images"]')
          ?.textContent?.includes('misclassified'),
      );
      const anyClass = await matching.innerText();
      assert.match(anyClass, /^[\d,]+ misclassified at ≥ 0\.5 \(any class\)$/);
      assert.ok(Number(anyClass.replace(/\D.*$/, '').replace(/,/g, '')) > 0, anyClass);
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
        els.slice(0, 20).map((e) => e.getAttribute('data-path')!),
      )) {
        assert.doesNotMatch(name, /^Shirt\//, 'a false positive of Shirt is not labelled Shirt');
      }
      // The screenshot shows the tiles with their thumbnails (made on first request).
      await waitForGridImages(page);
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
      // The picture fills the stage's height, and the colour scale names the method.
      const frame = (await page.locator('.zoom-frame').boundingBox())!;
      const stage = (await page.locator('.image-stage').boundingBox())!;
      assert.ok(
        frame.height >= Math.min(stage.height, stage.width) - 8 && frame.height > 500,
        `the picture fills the stage (${frame.height} of ${stage.height} px)`,
      );
      // (the model's default method, resolved: the legend names the method actually drawn)
      assert.match(
        await page.getByRole('group', { name: 'Colour scale' }).innerText(),
        new RegExp(`^(${SALIENCY_METHODS.join('|')}) · explains`),
      );
      // Every block of the per-block strip in one row.
      await page.getByRole('img', { name: 'Block 6 contribution' }).waitFor();
      const stripTops = await page
        .locator('.strip figure')
        .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
      assert.equal(new Set(stripTops).size, 1, `the strip is one row (${stripTops})`);
      // Reload inside the image view: the same image, method and filters come back.
      const shownPath = await page.locator('.image-toolbar strong').innerText();
      await page.reload();
      await page.getByRole('region', { name: 'Image view' }).waitFor();
      assert.equal(await page.locator('.image-toolbar strong').innerText(), shownPath);
      assert.equal(
        await page.getByRole('combobox', { name: 'Class', exact: true }).inputValue(),
        'Shirt',
        'the filters survive the reload',
      );
      await heatmapColours(page);

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
      // Back leaves compare mode, Forward returns to it (the view is in the URL).
      await page
        .getByRole('group', { name: 'Compare' })
        .getByRole('img', { name: 'Heatmap' })
        .first()
        .waitFor();
      await page.goBack();
      await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor();
      await page.goForward();
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
      // The panels sit in rows of one length: never a row with a hole.
      const tops = await page
        .getByRole('group', { name: 'Compare' })
        .locator('figure')
        .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
      const perRow = [...new Set(tops)].map((top) => tops.filter((t) => t === top).length);
      assert.ok(
        perRow.every((n) => n === perRow[0]),
        `panels per row: ${perRow}`,
      );
      await screenshot(page, 'image-view-compare');
      await page.getByRole('combobox', { name: 'Compare' }).selectOption('none');

      // 6. Create a tag and apply it by hotkey to three images.
      await createTag(page, 'crossed arms');
      await grid.focus();
      await cells.first().click();
      const untaggedBox = page.locator('label.check', { hasText: 'Untagged' });
      const untaggedBefore = Number((await untaggedBox.innerText()).replace(/\D/g, ''));
      const tagged: string[] = [];
      for (let i = 0; i < 3; i++) {
        tagged.push((await grid.locator('.cell.focused').getAttribute('data-path'))!);
        await page.keyboard.press('1');
        await page.keyboard.press('ArrowRight');
      }
      await page
        .getByRole('status', { name: 'Status' })
        .or(page.locator('output[aria-label=Status]'))
        .first()
        .getByText('Tagged')
        .waitFor();
      // The facet counts follow the hotkeys without a filter change: Untagged drops by three and
      // the tag filter counts the three.
      await page.waitForFunction(
        (want) =>
          [...document.querySelectorAll('label.check')].some(
            (l) =>
              l.textContent?.startsWith('Untagged') && l.textContent.includes(`(${want.toLocaleString()})`),
          ),
        untaggedBefore - 3,
      );
      // A status message belongs to its view: another tab clears it.
      const statusLine = page.locator('output[aria-label=Status]');
      assert.match(await statusLine.innerText(), /Tagged/);
      await page.getByRole('tab', { name: 'Stats' }).click();
      assert.equal(await statusLine.innerText(), '');
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.locator('.tag-filter summary').click();
      await page
        .getByRole('listbox', { name: 'Tag filter' })
        .getByRole('option', { name: /^crossed arms \(3\)/ })
        .waitFor();
      await page.locator('.tag-filter summary').click();
      // A tile's chips name every tag: the cell's accessible name holds them.
      assert.match(
        (await grid.getByRole('gridcell').first().getAttribute('aria-label'))!,
        /tags: crossed arms/,
      );

      // 7. Reload: the tags are still there.
      await page.reload();
      await page.getByRole('tab', { name: 'Review' }).click();
      await page.locator('.tag-filter summary').click();
      await page.getByRole('searchbox', { name: 'Search tags' }).fill('cross');
      await page
        .getByRole('listbox', { name: 'Tag filter' })
        .getByRole('option', { name: /^crossed arms \(3\), key 1$/ })
        .click();
      await page.locator('.tag-filter summary').click();
      await page.waitForFunction(() => document.querySelectorAll('[role=gridcell]').length === 3);
      const afterReload = await grid
        .getByRole('gridcell')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
      assert.deepEqual([...afterReload].sort(), [...tagged].sort());

      // 8. Export, and check the files on disk.
      await page.getByRole('button', { name: 'Export' }).click();
      const dialog = page.getByRole('dialog', { name: 'Export' });
      await dialog.getByRole('textbox', { name: 'Destination folder' }).fill(exportDir);
      await dialog.getByRole('button', { name: 'Start export' }).click();
      const summary = dialog.getByRole('region', { name: 'Export result' });
      await summary.waitFor({ timeout: 60_000 });
      assert.match(await summary.innerText(), /3 files from 3 images/);
      assert.match(await summary.getByRole('table', { name: 'Folders' }).innerText(), /crossed arms\/\s+3/);
      assert.match(await summary.innerText(), /No warnings/);
      assert.ok((await summary.innerText()).includes(exportDir), 'the summary names the destination');
      await screenshot(page, 'export-result');
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
      // One image of 2,000 reviewed: 0.05%, which must still show.
      await grid.getByRole('gridcell').first().click();
      await page.keyboard.press(' ');
      await grid.locator('.cell.reviewed').first().waitFor();

      await page.getByRole('tab', { name: 'Stats' }).click();
      await page.getByRole('region', { name: 'Confusion matrix' }).waitFor();
      // Review progress shows its number, and a small share still draws a visible bar.
      const progress = page.getByRole('progressbar', { name: 'Reviewed' });
      assert.equal(await progress.getAttribute('aria-valuetext'), '< 0.1%');
      const fill = (await progress.locator('.share-fill').boundingBox())!;
      assert.ok(fill.width >= 4, `a 0.05% share draws ${fill.width} px`);
      // Bars of the per-tag chart are drawn in the tags' colours.
      const tagColour = await page.evaluate(() => {
        const bar = document.querySelector('[aria-label="Images per tag"] .recharts-bar-rectangle path');
        return bar?.getAttribute('fill') ?? null;
      });
      assert.notEqual(tagColour, '#5aa9ff');
      assert.match(tagColour ?? '', /^#[0-9a-f]{6}$/i);
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
