// The review loop once more with a windowed model: the timm Swin fixture (random weights, dynamo
// export) behind a model card, on 50 demo images. Its heatmap values are not checked (the fixture
// tests hold them to PyTorch); what is checked is that the grid, the image view with its per-block
// strip on two grids, compare (the rollouts say they are not defined, the faithful methods draw)
// and export work.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { testModelCard } from '../helpers/modelCards';
import { createTag, importFolder, runModel } from '../helpers/reviewSteps';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const demo = path.join(repoRoot, 'models', 'demo', 'fashion-mnist');
const swin = path.join(repoRoot, 'test', 'fixtures', 'timm-swin-dynamo', 'model.onnx');
const LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat'];
const skip =
  browserSkipReason() ??
  (!fs.existsSync(swin) ? 'the Swin fixture is missing' : null) ??
  (!fs.existsSync(demo) ? 'the demo dataset is missing' : null);
if (skip) console.log(`# skipping the windowed-model browser test: ${skip}`);

test(
  'a Swin model through the workstation: predict, grid, image view, block strip, compare, export',
  { skip: skip ?? false, timeout: 180_000 },
  async (t) => {
    // Ten images of each of the model's five classes, and the model folder with its card.
    const data = tempDir(t, 'vsw-swin-set-');
    for (const folder of ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat']) {
      fs.mkdirSync(path.join(data, folder));
      for (const f of fs.readdirSync(path.join(demo, folder)).slice(0, 10))
        fs.copyFileSync(path.join(demo, folder, f), path.join(data, folder, f));
    }
    const modelDir = tempDir(t, 'vsw-swin-model-');
    fs.copyFileSync(swin, path.join(modelDir, 'model.onnx'));
    const card: Record<string, unknown> = testModelCard({
      name: 'swin-fixture',
      labels: LABELS,
      channels: 3,
      side: 32,
      prefix: 1,
      grid: [1, 1],
    });
    delete card.tokens; // the grids are found in the graph
    (card.input as { name: string }).name = 'pixel_values';
    fs.writeFileSync(path.join(modelDir, 'model.json'), JSON.stringify(card));

    const server = await startServe(t, tempDir(t, 'vsw-data-'));
    const exportDir = path.join(tempDir(t), 'negatives');
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 900 });
    try {
      await page.goto(server.url);
      await importFolder(page, data, 50);
      await runModel(page, modelDir);

      // The grid, with heatmaps over the thumbnails.
      await page.getByRole('tab', { name: 'Review' }).click();
      const grid = page.getByRole('grid', { name: 'Images' });
      const cells = grid.getByRole('gridcell');
      await cells.first().waitFor();
      await page.getByRole('checkbox', { name: 'Heatmaps in grid' }).check();
      await grid
        .getByRole('img', { name: /^Heatmap of / })
        .nth(2)
        .waitFor({ timeout: 60_000 });
      await page.getByRole('checkbox', { name: 'Heatmaps in grid' }).uncheck();

      // The image view: a map on the last stage's 8×8 grid, and the strip of four blocks on two grids.
      await cells.first().click();
      await page.keyboard.press('Enter');
      await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor({ timeout: 60_000 });
      const strip = page.getByRole('region', { name: 'Per-block contributions' });
      await strip.getByRole('img').nth(3).waitFor({ timeout: 60_000 });
      const blockNames = await strip
        .getByRole('img')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      assert.deepEqual(blockNames, [
        'Block 1 contribution (received, 16×16)',
        'Block 2 contribution (received, 16×16)',
        'Block 3 contribution (received, 8×8)',
        'Block 4 contribution (received, 8×8)',
      ]);
      await screenshot(page, 'swin-image-view');

      // Compare: every method draws but the two rollouts, which say why not.
      await page.getByRole('combobox', { name: 'Compare' }).selectOption('methods');
      const compare = page.getByRole('group', { name: 'Compare' });
      await compare.getByRole('img', { name: 'Heatmap attn-grad-product' }).waitFor({ timeout: 60_000 });
      await compare.getByRole('img', { name: 'Heatmap last-attn' }).waitFor({ timeout: 60_000 });
      await compare.getByRole('img', { name: 'Heatmap attn-lrp' }).waitFor({ timeout: 60_000 });
      await compare.getByRole('img', { name: 'Heatmap occlusion' }).waitFor({ timeout: 60_000 });
      await compare
        .getByText(/rollout is not defined for this architecture/i)
        .first()
        .waitFor({ timeout: 60_000 });
      assert.equal(await compare.getByText(/not defined for this architecture/).count(), 2);
      await screenshot(page, 'swin-image-view-compare');
      await page.getByRole('combobox', { name: 'Compare' }).selectOption('none');

      // Tag two images and export them with overlays written by the Swin model.
      await createTag(page, 'windowed');
      await grid.focus();
      await cells.first().click();
      for (let i = 0; i < 2; i++) {
        await page.keyboard.press('1');
        await page.keyboard.press('ArrowRight');
      }
      await page.locator('output[aria-label=Status]').getByText('Tagged').waitFor();
      await page.getByRole('button', { name: 'Export' }).click();
      const dialog = page.getByRole('dialog', { name: 'Export' });
      await dialog.getByRole('textbox', { name: 'Destination folder' }).fill(exportDir);
      await dialog.getByRole('button', { name: 'Start export' }).click();
      await dialog.getByLabel('Export result').waitFor({ timeout: 60_000 });
      assert.equal(fs.readdirSync(path.join(exportDir, 'windowed')).length, 2);
      assert.ok(fs.existsSync(path.join(exportDir, 'export.json')));
    } catch (error) {
      await screenshot(page, 'swin-failure');
      console.log('# page errors:', errors.join(' | '));
      throw error;
    }
    assert.deepEqual(errors, []);
  },
);
