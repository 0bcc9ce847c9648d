// The window when serve mode dies under it: a banner says the service is gone, the client
// reconnects by itself once the service is back on the same port, and the current view reloads
// (a dataset imported meanwhile appears) without the reviewer losing their place.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { writeImageFolder } from '../helpers/images';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const skip = browserSkipReason();

test(
  'the service dies: a banner, reconnection with backoff, and the view reloads',
  { skip: skip ?? false },
  async (t) => {
    const dataDir = tempDir(t, 'vsw-data-');
    const token = 'a-fixed-token-for-the-restart';
    const first = await startServe(t, dataDir, ['--token', token]);
    const port = new URL(first.origin).port;
    const { page, pageErrors: crashes } = await openPage(t, { width: 1280, height: 720 });
    await page.goto(first.url);
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('textbox', { name: 'Reviewer name' }).waitFor();
    const banner = page.getByRole('alert').filter({ hasText: 'service is gone' });
    assert.equal(await banner.count(), 0);

    first.child.kill('SIGKILL');
    await banner.waitFor({ timeout: 10_000 });
    await screenshot(page, 'connection-lost-banner');

    // While it is down, the CLI imports a dataset into the same data folder.
    const folder = path.join(tempDir(t), 'arrived-meanwhile');
    await writeImageFolder(folder);
    const imported = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bin', 'vsw.js'), 'import', folder, '--data-dir', dataDir],
      { encoding: 'utf8' },
    );
    assert.equal(imported.status, 0, imported.stderr);

    await startServe(t, dataDir, ['--token', token, '--port', port]);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
    // Still on Settings, and the dataset picker was reloaded from the service.
    assert.equal(await page.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected'), 'true');
    await page.getByRole('textbox', { name: 'Reviewer name' }).waitFor();
    await page
      .getByRole('combobox', { name: 'Dataset' })
      .locator('option', { hasText: 'arrived-meanwhile' })
      .waitFor({ state: 'attached', timeout: 10_000 });
    await screenshot(page, 'connection-restored');
    assert.deepEqual(crashes, []);
  },
);
