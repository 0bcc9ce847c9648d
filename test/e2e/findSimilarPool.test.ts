// "Find more like these" in an unlabelled pool, in Chromium against serve mode, on the demo loop's
// data: tag three cued false positives of Shirt, Find similar in the pool (which has no run yet: the
// page offers to predict it, and searches when that is done), confirm three pool candidates with
// the tag's hotkey and reject one with x, then export the tag with the pool's confirmed images and
// a test-set leakage check from the export dialog, and read the exported manifest and export.json.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { confirmByKey, rejectedPaths, tagFalsePositives, waitForGridImages } from '../helpers/reviewSteps';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { readJsonl } from '../helpers/manifest';
import { tempDir } from '../helpers/tempDir';
import { vswOk } from '../integration/core/coreKit';

const cued = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-cued');
const pool = path.join(repoRoot, 'models', 'demo', 'fashion-mnist-pool');
const model = path.join(repoRoot, 'models', 'fashion-vit-shortcut');
const skip =
  browserSkipReason() ??
  (!fs.existsSync(path.join(model, 'model.onnx')) ? 'the shortcut model is missing' : null) ??
  (!fs.existsSync(cued) || !fs.existsSync(pool) ? 'the demo loop datasets are missing' : null);
if (skip) console.log(`# skipping the find-similar-in-a-pool browser test: ${skip}`);

test(
  'find similar in a pool: predict it from the page, confirm three by hotkey, export them with the tag',
  { skip: skip ?? false, timeout: 400_000 },
  async (t) => {
    const scratch = tempDir(t, 'vsw-pool-ui-');
    const dataDir = path.join(scratch, 'data');
    const cli = (...args: string[]) => vswOk(...args, '--data-dir', dataDir);
    cli('import', cued, '--dataset', 'cued');
    cli('import', pool, '--dataset', 'pool');
    // A "test set" holding byte copies of the pool: every exported pool image is a leak by hash.
    const heldout = path.join(scratch, 'heldout');
    fs.mkdirSync(heldout);
    for (const f of fs.readdirSync(pool).filter((f) => f.endsWith('.png')))
      fs.copyFileSync(path.join(pool, f), path.join(heldout, f));
    cli('import', heldout, '--dataset', 'heldout');
    cli('predict', '--dataset', 'cued', '--model', model, '--batch', '64', '--provider', 'cpu');

    const db = new Database(path.join(dataDir, 'vsw.sqlite'), { readonly: true });
    t.after(() => db.close());
    const poolId = String(db.prepare(`SELECT id FROM datasets WHERE name = 'pool'`).pluck().get());
    const server = await startServe(t, dataDir);
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 900 });
    t.after(async () => {
      if (!page.isClosed()) await screenshot(page, 'find-similar-pool-last-state');
    });
    await page.goto(server.url);
    await page.getByRole('combobox', { name: 'Dataset' }).selectOption({ label: 'cued' });

    // Three cued false positives of Shirt, tagged "checkerboard" by hotkey.
    const seeds = await tagFalsePositives(page, 'Shirt', 'checkerboard', 3);
    const grid = page.getByRole('grid', { name: 'Images' });
    const cells = grid.getByRole('gridcell');
    await page
      .locator('.tag-list li', { hasText: 'checkerboard' })
      .locator('.tag-row .muted', { hasText: /^3$/ })
      .waitFor();

    // Search in the pool: it has no run of the model yet; the page says so and predicts it.
    await page.getByRole('combobox', { name: 'Find similar in' }).selectOption({ label: 'pool' });
    await page.getByRole('button', { name: 'Find similar to checkerboard' }).click();
    const needed = page.getByRole('alert').filter({ hasText: 'has no complete run' });
    await needed.waitFor();
    assert.match(
      await needed.innerText(),
      /pool has no complete run of this run's model \(fashion-vit-shortcut\)/,
    );
    await screenshot(page, 'find-similar-pool-needs-run');
    await needed.getByRole('button', { name: 'Predict pool with fashion-vit-shortcut' }).click();

    const banner = page.getByRole('region', { name: 'Find similar' });
    await banner.waitFor({ timeout: 240_000 });
    const text = await banner.innerText();
    assert.match(text, /Showing pool, another dataset/);
    assert.match(
      text,
      /100 images of pool most like the 3 images tagged “checkerboard” in cued, best first, by cosine similarity/,
    );
    assert.equal(await banner.getByRole('combobox', { name: 'Search in' }).inputValue(), poolId);
    await cells.first().waitFor();
    const candidates = await cells.evaluateAll((els) =>
      els.slice(0, 4).map((e) => e.getAttribute('data-path')!),
    );
    assert.equal(candidates.length, 4);
    assert.ok(
      candidates.every((p) => !p.includes('/')),
      'the candidates are pool images (flat folder)',
    );
    await waitForGridImages(page);
    await screenshot(page, 'find-similar-pool-candidates');

    // Confirm three with the tag's key: each moves on to the next candidate and shows the tag.
    await confirmByKey(page, candidates, 3, '1');
    await page.locator('output[aria-label=Status]', { hasText: 'of pool' }).waitFor();
    for (const p of candidates.slice(0, 3))
      await grid.locator(`[data-path="${p}"]`).getByText('checkerboard').waitFor();
    await screenshot(page, 'find-similar-pool-confirmed');
    // "Not this pattern" (x) on the fourth: remembered for the pool image, by the tag's name.
    await page.keyboard.press('x');
    await page.locator('output[aria-label=Status]', { hasText: 'will not be proposed again' }).waitFor();
    assert.equal(await grid.locator(`[data-path="${candidates[3]}"]`).count(), 0);
    // A pool candidate opens with its map and scores from the pool's run of the same model.
    await page.keyboard.press('Enter');
    await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('table', { name: 'Top-5 scores' }).getByRole('row').first().waitFor();
    await screenshot(page, 'find-similar-pool-open');
    await page.keyboard.press('Escape');
    await banner.waitFor();

    const taggedIn = (dataset: string) =>
      db
        .prepare(
          `SELECT i.rel_path FROM image_tags it JOIN tags t ON t.id = it.tag_id JOIN images i ON i.id = it.image_id
           JOIN datasets d ON d.id = t.dataset_id WHERE t.name = 'checkerboard' AND d.name = ? ORDER BY i.rel_path`,
        )
        .pluck()
        .all(dataset) as string[];
    await waitFor(() => taggedIn('pool').length === 3);
    assert.deepEqual(taggedIn('pool'), candidates.slice(0, 3).sort());
    assert.deepEqual(taggedIn('cued'), [...seeds].sort());
    assert.deepEqual(rejectedPaths(db, 'checkerboard'), [candidates[3]]);

    // Back to the reviewed dataset, then export the tag with the pool's confirmed images.
    await banner.getByRole('button', { name: 'Back to the grid of cued' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    const tagOption = dialog
      .getByRole('listbox', { name: 'Export tags' })
      .locator('option', { hasText: 'checkerboard' });
    await dialog
      .getByRole('listbox', { name: 'Export tags' })
      .selectOption((await tagOption.getAttribute('value'))!);
    await dialog.getByRole('combobox', { name: 'Pool' }).selectOption(poolId);
    await dialog
      .getByRole('combobox', { name: 'Test set' })
      .selectOption({ label: 'heldout (same file or near-duplicate embedding)' });
    const out = path.join(scratch, 'export');
    await dialog.getByRole('textbox', { name: 'Destination folder' }).fill(out);
    await dialog.getByRole('button', { name: 'Start export' }).click();
    const summary = dialog.getByRole('region', { name: 'Export result' });
    await summary.waitFor({ timeout: 60_000 });
    assert.match(await summary.getByLabel('Sources').innerText(), /3 from the dataset, 3 from the pool/);
    assert.match(
      await summary.getByLabel('Test-set check').innerText(),
      /heldout: 3 same file \(content hash\), 0 near-duplicates/,
    );
    await screenshot(page, 'find-similar-pool-export');

    const rows = readJsonl<{
      file_name: string;
      source: string;
      source_dataset: string;
      source_path: string;
    }>(path.join(out, 'manifest.jsonl'));
    assert.equal(rows.length, 6);
    assert.deepEqual(
      rows
        .filter((r) => r.source === 'pool')
        .map((r) => path.relative(pool, r.source_path))
        .sort(),
      candidates.slice(0, 3).sort(),
    );
    assert.deepEqual(
      rows
        .filter((r) => r.source === 'dataset')
        .map((r) => path.relative(cued, r.source_path))
        .sort(),
      [...seeds].sort(),
    );
    assert.ok(rows.every((r) => r.source_dataset === (r.source === 'pool' ? 'pool' : 'cued')));
    assert.ok(
      rows.every((r) => r.file_name.startsWith('checkerboard/')),
      'pool images join the tag folder',
    );
    const provenance = JSON.parse(fs.readFileSync(path.join(out, 'export.json'), 'utf8')) as {
      pool: { dataset: string; tags: string[] };
      sources: { dataset: number; pool: number };
    };
    assert.deepEqual(provenance.pool, { dataset: 'pool', tags: ['checkerboard'] });
    assert.deepEqual(provenance.sources, { dataset: 3, pool: 3 });
    assert.deepEqual(errors, []);
  },
);

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the database');
    await new Promise((r) => setTimeout(r, 100));
  }
}
