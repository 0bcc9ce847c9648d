// The renderer's first load stays small: the stats view (recharts) and the image view's compare
// mode are chunks of their own, fetched on first use (checked on the built dist/renderer).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/serveProcess';

const dist = path.join(repoRoot, 'dist', 'renderer');
const skip = fs.existsSync(path.join(dist, 'index.html'))
  ? false
  : 'the renderer is not built (npm run build)';

test('the first load holds neither recharts nor the compare view, and is under 500 kB', { skip }, () => {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const entry = /<script type="module"[^>]*src="\/?([^"]+)"/.exec(html)?.[1];
  assert.ok(entry, 'index.html loads one module script');
  const main = fs.readFileSync(path.join(dist, entry), 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload"[^>]*href="\/?([^"]+)"/g)].map((m) => m[1]);
  const firstLoad = [entry, ...preloaded].reduce((sum, f) => sum + fs.statSync(path.join(dist, f)).size, 0);
  assert.ok(firstLoad < 500_000, `first-load JavaScript is ${firstLoad} bytes`);
  const assets = fs.readdirSync(path.join(dist, 'assets'));
  for (const chunk of ['StatsView', 'ComparePanels']) {
    const file = assets.find((f) => f.startsWith(`${chunk}-`) && f.endsWith('.js'));
    assert.ok(file, `${chunk} is a chunk of its own`);
    assert.ok(!preloaded.some((p) => p.endsWith(file)), `${chunk} is not preloaded`);
    assert.match(
      main,
      new RegExp(`import\\(["'\`][^"'\`]*${file.replace('.', '\\.')}`),
      `${chunk} is imported on demand`,
    );
  }
  assert.doesNotMatch(main, /recharts-bar-rectangle/, 'recharts is not in the first load');
});
