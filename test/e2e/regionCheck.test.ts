// "Check this region" in Chromium against serve mode: cued images run through the shortcut model,
// one opened in the image view with token occlusion's map, the check clicked; the before/after
// scores read from the page must be the ones `vsw check-region` prints for the same image, and
// the stored check must be what the grid's "checked: region decisive" filter finds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const cued = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued', 'images');
const model = path.join(repoRoot, 'models', 'fashion-vit-shortcut');
// Cued coats and pullovers that the shortcut model calls Shirt.
const IMAGES = ['Coat/00014.png', 'Pullover/00016.png', 'Coat/00017.png'];
const skip =
  browserSkipReason() ??
  (!fs.existsSync(path.join(model, 'model.onnx')) ? 'the shortcut model is missing' : null) ??
  (!IMAGES.every((f) => fs.existsSync(path.join(cued, f))) ? 'the cued demo images are missing' : null);
if (skip) console.log(`# skipping the region-check browser test: ${skip}`);

function vsw(args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vsw.js'), ...args], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `vsw ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

test(
  "the image view checks a region, and its scores are the CLI's",
  { skip: skip ?? false, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t, 'vsw-data-');
    const folder = path.join(tempDir(t), 'cued');
    for (const f of IMAGES) {
      fs.mkdirSync(path.dirname(path.join(folder, f)), { recursive: true });
      fs.copyFileSync(path.join(cued, f), path.join(folder, f));
    }
    vsw(['import', folder, '--dataset', 'cued', '--data-dir', dataDir]);
    vsw(['predict', '--dataset', 'cued', '--model', model, '--data-dir', dataDir]);

    const server = await startServe(t, dataDir);
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 1000 });
    await page.goto(server.url);
    await page.getByRole('tab', { name: 'Review' }).click();
    const grid = page.getByRole('grid', { name: 'Images' });
    const first = grid.getByRole('gridcell').first();
    await first.waitFor();
    const rel = (await first.getAttribute('aria-label'))!;
    assert.ok(IMAGES.includes(rel), `the first cell is one of the copied images (${rel})`);
    await first.click();
    await page.keyboard.press('Enter');
    // The model's leaderboard winner is shown by default, with the reason.
    const shownMethod = page.getByLabel('Method shown');
    await shownMethod.waitFor({ timeout: 60_000 });
    assert.match(
      await shownMethod.innerText(),
      /^occlusion-multiscale · default for this model: best deletion and insertion AUC on 157 images/,
    );
    await page.getByRole('combobox', { name: 'Method' }).selectOption('occlusion');
    await page
      .getByLabel('Method shown')
      .getByText(/^occlusion · your choice/)
      .waitFor();
    await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Check this region' }).click();
    const result = page.getByLabel('Region check result');
    await result.waitFor({ timeout: 60_000 });
    const read = async (id: string) => Number(await page.getByTestId(id).innerText());
    const shown = {
      before: await read('check-before'),
      after: await read('check-after'),
      random: await read('check-random'),
      bottom: await read('check-bottom'),
    };
    const verdict = await page.getByTestId('check-verdict').innerText();
    await screenshot(page, 'image-view-region-check');

    const cli = JSON.parse(
      vsw(['check-region', '--model', model, '--input', path.join(folder, rel), '--method', 'occlusion']),
    ) as { label: string; before: number; after: number; random: number; bottom: number; decisive: boolean };
    assert.equal(cli.label, 'Shirt', 'the shortcut model calls the cued image Shirt');
    for (const k of ['before', 'after', 'random', 'bottom'] as const)
      assert.ok(
        Math.abs(shown[k] - cli[k]) <= 0.0005 + 1e-9,
        `${k}: the page shows ${shown[k]}, vsw check-region says ${cli[k]}`,
      );
    assert.match(await result.innerText(), /^Shirt /);
    assert.equal(verdict.startsWith('region decisive'), cli.decisive);
    // Hiding the map's top 10% must cost more than hiding a random 10% (occlusion's map is causal).
    assert.ok(cli.before - cli.after > cli.before - cli.random, JSON.stringify(cli));

    // The check is stored with the image: the grid's filter finds it.
    await page.keyboard.press('Escape');
    await page
      .getByRole('combobox', { name: 'Region check' })
      .selectOption(cli.decisive ? 'decisive' : 'not-decisive');
    await grid.getByRole('gridcell', { name: rel }).waitFor();
    assert.equal(await grid.getByRole('gridcell').count(), 1);
    await page.getByRole('combobox', { name: 'Region check' }).selectOption('unchecked');
    await grid.getByRole('gridcell').first().waitFor();
    assert.equal(await grid.getByRole('gridcell').count(), IMAGES.length - 1);
    await screenshot(page, 'review-grid-region-check-filter');

    // Settings lists the bundled models' leaderboards.
    await page
      .getByRole('button', { name: 'Settings' })
      .or(page.getByRole('tab', { name: 'Settings' }))
      .first()
      .click();
    const board = page.getByRole('region', { name: 'Leaderboard of fashion-vit-shortcut' });
    await board.getByRole('table').waitFor();
    assert.match(await board.getByLabel('Default method').innerText(), /occlusion-multiscale/);
    // A header, the eight methods and the random floor.
    assert.equal(await board.getByRole('row').count(), 10);
    await screenshot(page, 'settings-leaderboards');
    assert.deepEqual(errors, []);
  },
);
