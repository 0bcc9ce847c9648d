// The `vsw` command line's contract: help works, usage errors exit 2, failures exit 1 with a reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { writeImageFolder } from '../helpers/images';
import { repoRoot } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

function vsw(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'vsw.js'), ...args], {
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help lists the commands and exits 0', () => {
  const { code, stdout } = vsw('--help');
  assert.equal(code, 0);
  assert.match(stdout, /serve \[options\]/);
  assert.match(stdout, /import \[options\] <source>/);
});

test('usage errors exit 2 with the reason on stderr', () => {
  const unknown = vsw('serve', '--bogus');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const badPort = vsw('serve', '--port', 'eighty');
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be a whole number/);
  assert.equal(vsw('no-such-command').code, 2);
});

test('a failure exits 1 with the reason; a good import exits 0', async (t) => {
  const dataDir = tempDir(t, 'vsw-data-');
  const missing = vsw('import', path.join(dataDir, 'nowhere'), '--data-dir', dataDir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
  const folder = tempDir(t);
  await writeImageFolder(folder);
  const ok = vsw('import', folder, '--dataset', 'pets', '--data-dir', dataDir, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).report.added, 4);
});

test('importing a folder without images exits 2 with the reason and creates no dataset', (t) => {
  const dataDir = tempDir(t, 'vsw-data-');
  const empty = tempDir(t);
  const none = vsw('import', empty, '--data-dir', dataDir);
  assert.equal(none.code, 2, none.stderr);
  assert.match(
    none.stderr,
    /holds no images \(0 file\(s\) skipped\); choose the folder that holds the images/,
  );
  const textOnly = tempDir(t);
  fs.writeFileSync(path.join(textOnly, 'notes.txt'), 'not an image');
  const text = vsw('import', textOnly, '--data-dir', dataDir);
  assert.equal(text.code, 2);
  assert.match(text.stderr, /holds no images \(1 file\(s\) skipped, e\.g\. notes\.txt: /);
  const db = new Database(path.join(dataDir, 'vsw.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT count(*) FROM datasets').pluck().get(), 0, 'no empty dataset left behind');
  assert.equal(db.prepare('SELECT count(*) FROM dataset_roots').pluck().get(), 0);
});

test("every command's --help marks the options it cannot run without", () => {
  const explain = vsw('explain', '--help');
  assert.equal(explain.code, 0);
  for (const flag of ['--input', '--out', '--model'])
    assert.match(explain.stdout, new RegExp(`${flag} <[^>]+>\\s+\\(required\\)`), flag);
  assert.doesNotMatch(explain.stdout, /--target <class>\s+\(required\)/);
  const exported = vsw('export', '--help');
  for (const flag of ['--dataset', '--layout', '--media', '--out'])
    assert.match(exported.stdout, new RegExp(`${flag} <[^>]+>\\s+\\(required\\)`), flag);
  assert.doesNotMatch(exported.stdout, /--run <id>\s+\(required\)/);
});
