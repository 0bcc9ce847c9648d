#!/usr/bin/env node
// Launcher for the `vsw` command line (compiled to dist/ by `npm ci`'s prepare step).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'electron', 'cli', 'vsw.js');
if (!fs.existsSync(entry)) {
  console.error('vsw: the app is not built yet; run `npm run build` (npm ci does it for you)');
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    if (code !== 0) process.exit(code);
  });
