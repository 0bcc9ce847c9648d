// `npm start` where Electron's binary cannot be downloaded: one calm line says why (no raw
// installer stack trace), then serve mode starts and prints its URL. The download is pointed at a
// closed local port so that it fails at once on any machine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tempDir';

const root = path.resolve(__dirname, '..', '..');

function electronInstalled(): boolean {
  try {
    const binary = require('electron') as unknown;
    return typeof binary === 'string' && fs.existsSync(binary);
  } catch {
    return false;
  }
}

test(
  'npm start without Electron: a one-line reason, then serve mode',
  { skip: electronInstalled() && "Electron's binary is installed here", timeout: 60_000 },
  async (t) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'start.js'), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VSW_DATA_DIR: tempDir(t), ELECTRON_MIRROR: 'http://127.0.0.1:9/' },
    });
    t.after(() => child.kill('SIGTERM'));
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err += String(d)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += String(d);
        if (/^Serving at http:\/\/\S+$/m.test(out)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`npm start exited with ${code}; stderr: ${err}`)));
    });
    assert.match(err, /^Electron download failed: (fetch failed|.*ECONNREFUSED.*)\.$/m);
    assert.doesNotMatch(err, /^\s+at /m, `a stack trace on stderr:\n${err}`);
    assert.match(err, /Starting serve mode instead/);
  },
);
