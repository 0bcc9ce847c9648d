// The README says which packages warn EBADENGINE under the Node version package.json accepts, and
// why that is harmless. This keeps the list true: every locked package whose `engines.node`
// excludes that Node must be one the README names.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../helpers/serveProcess';

type Version = [number, number, number];
const parse = (v: string): Version => v.split('.').map(Number).concat(0, 0).slice(0, 3) as Version;
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether one alternative of an engines range (`>=X`, `^X`, `X.x`, `X || Y`…) admits `node`. */
function admits(range: string, node: Version): boolean {
  return range.split('||').some((alternative) => {
    const parts = alternative
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/);
    return parts.every((part) => {
      const m = /^(>=|>|<=|<|\^|~|=)?\s*v?(\d+(?:\.\d+){0,2})(?:\.x)?$/.exec(part.trim().replace(/\.x$/, ''));
      if (!m) return true; // '*' or anything unusual: assume it admits
      const v = parse(m[2]);
      const c = compare(node, v);
      switch (m[1]) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        case '^':
          return node[0] === v[0] && c >= 0;
        case '~':
          return node[0] === v[0] && node[1] === v[1] && c >= 0;
        default:
          return m[2].split('.').length === 3 ? c === 0 : node[0] === v[0];
      }
    });
  });
}

test('the packages that warn EBADENGINE under the lowest supported Node are the ones the README names', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  const lowest = parse(/(\d+\.\d+(?:\.\d+)?)/.exec(pkg.engines.node)![1]);
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string } }>;
  };
  const refusing = new Set<string>();
  for (const [where, entry] of Object.entries(lock.packages)) {
    const range = entry.engines?.node;
    if (where && range && !admits(range, lowest)) refusing.add(where.replace(/^.*node_modules\//, ''));
  }
  assert.ok(refusing.size > 0, 'Electron tooling wants a newer Node; if none does, drop the README note');
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = /### Node versions and[\s\S]*?\n## /.exec(readme)?.[0] ?? '';
  for (const name of refusing)
    assert.ok(section.includes(`\`${name}\``), `README's Node section names ${name}`);
  const count = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'][refusing.size];
  assert.ok(section.includes(`EBADENGINE\` for ${count} packages`), `the README counts ${count} packages`);
  // The checker itself: ranges as npm writes them.
  assert.equal(admits('^20.19.0 || ^22.13.0 || >=24', [20, 19, 0]), true);
  assert.equal(admits('>= 22.12.0', [20, 19, 0]), false);
  assert.equal(admits('>= 6', [20, 19, 0]), true);
  assert.equal(admits('>=18 <20', [20, 19, 0]), false);
  assert.equal(admits('20.x || 22.x || 23.x', [20, 19, 0]), true);
  assert.equal(admits('18 || 20 || >=22', [20, 19, 0]), true);
});
