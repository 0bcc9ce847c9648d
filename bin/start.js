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
    const r = spawnSync(process.execPath, [installer], {
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
      timeout: 120000,
    });
    binary = electronBinary();
    // The installer's own output is a stack trace; one line with its reason is enough.
    if (!binary) console.error(`Electron download failed: ${downloadFailure(r)}.`);
  }
}

/** The reason in the installer's output (e.g. "fetch failed", "getaddrinfo ENOTFOUND host"). */
function downloadFailure(r) {
  if (r.error) return r.error.code === 'ETIMEDOUT' ? 'timed out after 120 s' : r.error.message;
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  const known =
    /(fetch failed|getaddrinfo \S+ \S+|E(?:CONNREFUSED|CONNRESET|TIMEDOUT|AI_AGAIN|NOTFOUND)\b[^\n]*|HTTPError: [^\n]*)/.exec(
      output,
    );
  if (known) return known[1].trim();
  const first = output.split('\n').find((l) => l.trim() && !/^\s+at /.test(l));
  return first ? first.trim().slice(0, 200) : `the installer exited with code ${r.status}`;
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
