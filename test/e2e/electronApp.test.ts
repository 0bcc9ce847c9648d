// The real Electron app, driven by Playwright's _electron, where Electron's binary is installed.
// Here (no binary can be downloaded) it is skipped with the reason printed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { _electron as electron } from 'playwright-core';
import { ARTIFACTS } from '../helpers/browser';
import { writeImageFolder } from '../helpers/images';
import { repoRoot } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

function electronBinary(): string | null {
  try {
    const binary = require('electron') as unknown;
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const skip = binary ? false : "Electron's binary is not installed (it cannot be downloaded on this machine)";
if (skip) console.log(`# skipping Electron tests: ${skip}`);

test('the Electron window opens a folder and shows its thumbnails', { skip }, async (t) => {
  const folder = tempDir(t);
  await writeImageFolder(folder);
  const app = await electron.launch({
    executablePath: binary!,
    args: [
      path.join(repoRoot, 'dist', 'electron', 'main', 'main.js'),
      '--data-dir',
      tempDir(t, 'vsw-data-'),
      '--open',
      folder,
    ],
  });
  t.after(() => app.close());
  const window = await app.firstWindow();
  await window.getByRole('grid', { name: 'Images' }).getByRole('gridcell', { name: 'cat/one.png' }).waitFor();
  const isolated = await window.evaluate(
    () => typeof (globalThis as { require?: unknown }).require === 'undefined',
  );
  assert.equal(isolated, true, 'no Node in the renderer');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await window.screenshot({ path: path.join(ARTIFACTS, 'electron-thumbnail-grid.png') });
});
