// Settings in a real browser: the execution provider, the CUDA device id and the saliency
// precision are saved by the service and survive a reload; the line under them names the provider
// that last ran.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { settingsPath } from '../../electron/workstation/settings/serviceSettings';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const skip = browserSkipReason();

test(
  'Settings keeps the provider, the CUDA device and the precision across a reload',
  { skip: skip ?? false },
  async (t) => {
    const dataDir = tempDir(t, 'vsw-data-');
    const server = await startServe(t, dataDir);
    const { page, pageErrors: problems } = await openPage(t, { width: 1280, height: 720 });
    await page.goto(server.url);
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('combobox', { name: 'Execution provider' }).selectOption('cuda');
    await page.getByText('Saved.').waitFor();
    const device = page.getByRole('spinbutton', { name: 'CUDA device' });
    assert.equal(await device.inputValue(), '0');
    await device.fill('1');
    await device.blur();
    await page.waitForFunction(() => document.body.innerText.includes('Saved.'));
    const precision = page.getByRole('combobox', { name: 'Saliency precision' });
    assert.equal(await precision.inputValue(), 'float32');
    await precision.selectOption('float16');
    // "Saved." is still shown from the device: wait for the service's own file instead.
    const file = settingsPath(dataDir);
    for (
      let i = 0;
      i < 100 && !/"float16"/.test(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    await page.reload();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('spinbutton', { name: 'CUDA device' }).waitFor();
    assert.equal(await page.getByRole('spinbutton', { name: 'CUDA device' }).inputValue(), '1');
    assert.equal(await page.getByRole('combobox', { name: 'Execution provider' }).inputValue(), 'cuda');
    assert.equal(await page.getByRole('combobox', { name: 'Saliency precision' }).inputValue(), 'float16');
    await page.getByText('Last run used').waitFor();
    await screenshot(page, 'settings-provider');
    assert.deepEqual(problems, []);
  },
);
