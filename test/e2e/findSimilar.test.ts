// "Find more like these" in Chromium against serve mode, on the demo set and the bundled model:
// tag three false positives, Find similar from the tag (the banner says what the grid shows),
// confirm three candidates with the tag's hotkey, reject one with x, and check the tag's count in
// the panel and the database; a new search proposes neither the confirmed nor the rejected ones.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import {
  confirmByKey,
  importFolder,
  rejectedPaths,
  runModel,
  tagFalsePositives,
  waitForGridImages,
} from '../helpers/reviewSteps';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const demo = path.join(repoRoot, 'models', 'demo', 'fashion-mnist');
const model = path.join(repoRoot, 'models', 'fashion-vit');
const skip =
  browserSkipReason() ??
  (!fs.existsSync(path.join(model, 'model.onnx')) ? 'the bundled model is missing' : null) ??
  (!fs.existsSync(demo) ? 'the demo dataset is missing' : null);
if (skip) console.log(`# skipping the find-similar browser test: ${skip}`);

test(
  'find similar from a tag: confirm three candidates by hotkey, reject one, counts and database agree',
  { skip: skip ?? false, timeout: 240_000 },
  async (t) => {
    const dataDir = tempDir(t, 'vsw-data-');
    const server = await startServe(t, dataDir);
    const { page, pageErrors: errors } = await openPage(t, { width: 1440, height: 900 });
    t.after(async () => {
      if (!page.isClosed()) await screenshot(page, 'find-similar-last-state');
    });
    await page.goto(server.url);
    await importFolder(page, demo, 2000);
    await runModel(page, model);

    // Three false positives of Shirt, tagged "checkerboard" by hotkey.
    const seeds = await tagFalsePositives(page, 'Shirt', 'checkerboard', 3);
    const grid = page.getByRole('grid', { name: 'Images' });
    const cells = grid.getByRole('gridcell');
    const tagRow = page.locator('.tag-list li', { hasText: 'checkerboard' });
    await tagRow.locator('.tag-row .muted', { hasText: /^3$/ }).waitFor();

    // Find similar from the tag: the banner says what the grid shows.
    await page.getByRole('button', { name: 'Find similar to checkerboard' }).click();
    const banner = page.getByRole('region', { name: 'Find similar' });
    await banner.waitFor();
    assert.match(
      await banner.innerText(),
      /100 images of fashion-mnist most like the 3 images tagged “checkerboard”, best first, by cosine similarity/,
    );
    assert.match(
      await banner.innerText(),
      /Confirm a candidate with “checkerboard”'s key \(1\); reject it with x/,
    );
    await cells.first().waitFor();
    const candidates = await cells.evaluateAll((els) =>
      els.slice(0, 6).map((e) => e.getAttribute('data-path')!),
    );
    assert.equal(candidates.length, 6);
    assert.ok(
      candidates.every((p) => !seeds.includes(p)),
      'the tagged images are the query, not candidates',
    );
    await waitForGridImages(page);
    await screenshot(page, 'find-similar-candidates');

    // Confirm three by the tag's hotkey (each moves on to the next candidate), reject the fourth.
    await confirmByKey(page, candidates, 3, '1');
    await page.keyboard.press('x');
    await page.locator('output[aria-label=Status]', { hasText: 'will not be proposed again' }).waitFor();
    // The rejected candidate left the list; the next one took its place.
    assert.equal(await grid.locator(`[data-path="${candidates[3]}"]`).count(), 0);
    assert.equal(await grid.locator('.cell.focused').getAttribute('data-path'), candidates[4]);
    await tagRow.locator('.tag-row .muted', { hasText: /^6$/ }).waitFor();
    await screenshot(page, 'find-similar-confirmed');

    // The database: six tagged (the three seeds and the three confirmed), one rejection.
    const db = new Database(path.join(dataDir, 'vsw.sqlite'), { readonly: true });
    t.after(() => db.close());
    const tagged = db
      .prepare(
        `SELECT i.rel_path FROM image_tags it JOIN tags t ON t.id = it.tag_id JOIN images i ON i.id = it.image_id
         WHERE t.name = 'checkerboard' ORDER BY i.rel_path`,
      )
      .pluck()
      .all() as string[];
    assert.deepEqual(tagged, [...seeds, ...candidates.slice(0, 3)].sort());
    assert.deepEqual(rejectedPaths(db, 'checkerboard'), [candidates[3]]);

    // Back to the grid, then search again: the confirmed are in the query, the rejected is gone.
    await banner.getByRole('button', { name: 'Back to the grid' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Find similar to checkerboard' }).click();
    await page.getByRole('region', { name: 'Find similar' }).getByText('the 6 images tagged').waitFor();
    await cells.first().waitFor();
    const again = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-path')!));
    for (const p of [...seeds, ...candidates.slice(0, 4)])
      assert.ok(!again.includes(p), `${p} is not proposed`);
    // The mean of the set ranks another way; the banner says which.
    await page.getByRole('combobox', { name: 'Score by' }).selectOption('mean');
    await page.waitForFunction(
      () =>
        (document.querySelector('select[aria-label="Score by"]') as HTMLSelectElement | null)?.value ===
        'mean',
    );
    await screenshot(page, 'find-similar-mean');
    assert.deepEqual(errors, []);
  },
);
