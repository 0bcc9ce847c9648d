#!/usr/bin/env node
// `npm start`: launch the Electron workstation on the bundled demo dataset. Where Electron's
// binary is missing it tries to fetch it once; where that is impossible (no internet, as on the
// build machines) it says why and starts serve mode instead, printing the URL to open.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const demo = path.join(root, 'models', 'demo', 'fashion-mnist');
const extra = process.argv.slice(2);

function electronBinary() {
  try {
    const binary = require('electron'); // the path of the binary, or a throw when it was not downloaded
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

let binary = electronBinary();
if (!binary && !process.env.VSW_NO_ELECTRON) {
  const installer = path.join(root, 'node_modules', 'electron', 'install.js');
  if (fs.existsSync(installer)) {
    console.error('Electron binary not present; trying to download it once…');
    spawnSync(process.execPath, [installer], {
      stdio: 'inherit',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
      timeout: 120000,
    });
    binary = electronBinary();
  }
}

const openArgs = fs.existsSync(demo) ? ['--open', demo] : [];
if (binary) {
  const child = spawn(
    binary,
    [path.join(root, 'dist', 'electron', 'main', 'main.js'), ...openArgs, ...extra],
    { stdio: 'inherit' },
  );
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.error(
    process.env.VSW_NO_ELECTRON
      ? 'VSW_NO_ELECTRON is set: starting serve mode.'
      : "Electron's binary is not installed and could not be downloaded (no internet access to its release host?).\n" +
          'Starting serve mode instead: open the URL below in a browser on this machine.',
  );
  const child = spawn(process.execPath, [path.join(__dirname, 'vsw.js'), 'serve', ...openArgs, ...extra], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
