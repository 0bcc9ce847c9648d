// The service's settings file and the settings.set contract: the CUDA device id and the saliency
// precision are kept across restarts next to the provider choice, and bad values are refused
// before they reach the engine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { reviewMethods } from '../../../electron/contract/reviewMethods';
import {
  readSettings,
  settingsPath,
  writeSettings,
} from '../../../electron/workstation/settings/serviceSettings';
import { tempDir } from '../../helpers/tempDir';

test('the CUDA device is saved with the provider and read back; defaults to 0', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(readSettings(dir), { provider: 'auto', cudaDevice: 0, precision: 'float32' });
  writeSettings(dir, { ...readSettings(dir), provider: 'cuda', cudaDevice: 2 });
  assert.deepEqual(readSettings(dir), { provider: 'cuda', cudaDevice: 2, precision: 'float32' });
  fs.writeFileSync(settingsPath(dir), JSON.stringify({ provider: 'cuda', cudaDevice: -1 }));
  assert.equal(readSettings(dir).cudaDevice, 0, 'an invalid file falls back to the defaults');
});

test('settings.set takes a CUDA device id from 0 to 63 only', () => {
  const params = reviewMethods['settings.set'].params;
  assert.ok(params.safeParse({ cudaDevice: 1 }).success);
  assert.ok(!params.safeParse({ cudaDevice: -1 }).success);
  assert.ok(!params.safeParse({ cudaDevice: 1.5 }).success);
  assert.ok(!params.safeParse({ cudaDevice: 64 }).success);
});

test('the saliency precision is saved and read back; settings.set takes float32 or float16 only', (t) => {
  const dir = tempDir(t);
  writeSettings(dir, { ...readSettings(dir), precision: 'float16' });
  assert.equal(readSettings(dir).precision, 'float16');
  const params = reviewMethods['settings.set'].params;
  assert.ok(params.safeParse({ precision: 'float16' }).success);
  assert.ok(!params.safeParse({ precision: 'float64' }).success);
});
