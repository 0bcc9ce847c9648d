// The foundation's vertical slice in a real browser: serve mode, add a folder, see its thumbnails.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { writeBadFileZoo } from '../helpers/images';
import { startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const skip = browserSkipReason();
if (skip) console.log(`# skipping browser tests: ${skip}`);

test(
  'add a folder in the browser and see a grid of real thumbnails, with the import report',
  { skip: skip ?? false },
  async (t) => {
    const folder = path.join(tempDir(t), 'pets');
    await writeBadFileZoo(folder);
    const server = await startServe(t, tempDir(t, 'vsw-data-'));
    const { page, pageErrors: problems } = await openPage(t, { width: 1280, height: 720 });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });

    await page.goto(server.url);
    assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
    await page.getByRole('textbox', { name: 'Dataset folder' }).fill(folder);
    await page.getByRole('button', { name: 'Import' }).click();

    // The import report names the bad files with their reasons.
    const report = page.getByRole('region', { name: 'Import report' });
    await report.getByText('truncated PNG').waitFor();
    assert.match(await report.innerText(), /9 skipped/);

    await page.getByRole('tab', { name: 'Review' }).click();
    const grid = page.getByRole('grid', { name: 'Images' });
    await grid.getByRole('gridcell', { name: 'dog/nested/four.png' }).waitFor();
    const cells = grid.getByRole('gridcell');
    assert.equal(await cells.count(), 4);
    // Every thumbnail really decoded: its natural width is that of a real image.
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[role=grid] img')].every((i) => (i as HTMLImageElement).complete),
    );
    const widths = await grid
      .locator('img')
      .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    assert.deepEqual(widths, [32, 32, 32, 32]);

    await page.reload();
    await page.getByRole('tab', { name: 'Review' }).click();
    await grid.getByRole('gridcell', { name: 'cat/one.png' }).waitFor();
    await screenshot(page, 'foundation-thumbnail-grid');
    assert.deepEqual(problems, []);
  },
);
