// Settings in a real browser: the execution provider and the CUDA device id are saved by the
// service and survive a reload; the line under them names the provider that last ran.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSkipReason, openPage, screenshot } from '../helpers/browser';
import { startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const skip = browserSkipReason();

test(
  'Settings keeps the provider and the CUDA device across a reload',
  { skip: skip ?? false },
  async (t) => {
    const server = await startServe(t, tempDir(t, 'vsw-data-'));
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
    await page.reload();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('spinbutton', { name: 'CUDA device' }).waitFor();
    assert.equal(await page.getByRole('spinbutton', { name: 'CUDA device' }).inputValue(), '1');
    assert.equal(await page.getByRole('combobox', { name: 'Execution provider' }).inputValue(), 'cuda');
    await page.getByText('Last run used').waitFor();
    await screenshot(page, 'settings-provider');
    assert.deepEqual(problems, []);
  },
);
