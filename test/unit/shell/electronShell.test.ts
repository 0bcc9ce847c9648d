// The Electron shell's logic, tested without Electron's binary (it cannot be downloaded here): the
// custom-protocol handlers and the CSP on every response they give, the meta CSP of the page, the
// service's restart policy and error screen, and the --open failure that must reach the reviewer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  appProtocolHandler,
  ELECTRON_CSP,
  mediaProtocolHandler,
  type FetchFile,
} from '../../../electron/main/protocolHandlers';
import {
  createRestartPolicy,
  errorScreenHtml,
  restartMessage,
  serviceLogPath,
} from '../../../electron/main/serviceSupervisor';
import { isOpenFailure, openFolderAtStart, type OpenFailure } from '../../../electron/service/openAtStart';
import type { ServiceEvent } from '../../../electron/contract/protocol';
import { Workstation } from '../../../electron/workstation/workstation';
import { writeImageFolder } from '../../helpers/images';
import { repoRoot } from '../../helpers/serveProcess';
import { tempDir } from '../../helpers/tempDir';

/** Reads a file: URL from disk, and fails for a missing file, as Electron's net.fetch does. */
const readFile: FetchFile = async (fileUrl) =>
  new Response(await fs.promises.readFile(fileURLToPath(fileUrl)), {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream' },
  });

function assertSecured(response: Response, what: string) {
  assert.equal(response.headers.get('content-security-policy'), ELECTRON_CSP, what);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', what);
}

test('vsw-app: every response carries the CSP, whatever its status', async (t) => {
  const root = tempDir(t);
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="root"></div>');
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  const handle = appProtocolHandler(root, readFile);
  const cases: [string, number][] = [
    ['vsw-app://app/', 200],
    ['vsw-app://app/index.html', 200],
    ['vsw-app://app/assets/app.js', 200],
    ['vsw-app://app/assets/missing.js', 404],
    ['vsw-app://app/%E0%A4%A', 400],
    ['vsw-app://app/..%2F..%2F..%2Fetc%2Fpasswd', 404],
  ];
  for (const [url, status] of cases) {
    const response = await handle(new Request(url));
    assert.equal(response.status, status, url);
    assertSecured(response, url);
  }
  const page = await handle(new Request('vsw-app://app/'));
  assert.match(await page.text(), /<div id="root">/);
});

test('vsw-media: served and refused responses both carry the CSP', async (t) => {
  const file = path.join(tempDir(t), 'one.png');
  fs.writeFileSync(file, 'png bytes');
  const asked: string[] = [];
  const handle = mediaProtocolHandler(async (urlPath) => {
    asked.push(urlPath);
    if (urlPath === '/original/1/cat/one.png') return file;
    throw new Error('refused: not an image of this dataset');
  }, readFile);
  const ok = await handle(new Request('vsw-media://media/original/1/cat/one.png'));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'png bytes');
  assertSecured(ok, 'served');
  const refused = await handle(new Request('vsw-media://media/original/1/secret.png'));
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /refused/);
  assertSecured(refused, 'refused');
  assert.deepEqual(asked, ['/original/1/cat/one.png', '/original/1/secret.png']);
});

test("the page's meta CSP is the window's policy (less frame-ancestors, which a meta tag cannot set)", () => {
  const html = fs.readFileSync(path.join(repoRoot, 'renderer', 'index.html'), 'utf8');
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
  assert.ok(meta, 'renderer/index.html has a CSP meta tag');
  const expected = ELECTRON_CSP.split('; ')
    .filter((d) => !d.startsWith('frame-ancestors'))
    .join('; ');
  assert.equal(meta[1], expected);
  assert.match(meta[1], /script-src 'self'(;|$)/, 'no inline or remote script');
});

test('the service is restarted once; a second exit within a minute gives up', () => {
  const policy = createRestartPolicy(60_000);
  assert.equal(policy.onExit(1_000), 'restart');
  assert.equal(policy.onExit(30_000), 'give-up', '29 s after the restart');
  const slow = createRestartPolicy(60_000);
  assert.equal(slow.onExit(0), 'restart');
  assert.equal(slow.onExit(61_000), 'restart', 'a minute of good service earns another restart');
  assert.equal(slow.onExit(121_001), 'restart');
  assert.equal(slow.onExit(121_500), 'give-up');
});

test('the restart message and the error screen name the log; the screen escapes what it shows', () => {
  const log = serviceLogPath(path.join('data', 'dir'));
  assert.equal(log, path.join('data', 'dir', 'logs', 'service.log'));
  assert.match(restartMessage(134, log), /stopped with exit code 134 and was restarted/);
  assert.ok(restartMessage(134, log).includes(log));
  const screen = errorScreenHtml(9, '/home/<ana>/logs/service.log');
  assert.ok(screen.includes('/home/&lt;ana&gt;/logs/service.log'));
  assert.doesNotMatch(screen, /<ana>/);
  assert.match(screen, /stopped with exit code 9/);
  assert.match(screen, /default-src 'none'/, 'the error page runs no script');
});

test('--open: a folder that cannot be imported is reported, not dropped; a good one announces itself', async (t) => {
  const workstation = new Workstation({ dataDir: tempDir(t, 'vsw-data-'), reviewer: 'ana' });
  t.after(() => workstation.close());
  const events: ServiceEvent[] = [];
  const failures: OpenFailure[] = [];
  const open = (folder: string) =>
    openFolderAtStart(
      workstation,
      folder,
      (e) => events.push(e),
      (f) => failures.push(f),
    );
  const missing = path.join(tempDir(t), 'not-there');
  await open(missing);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].folder, missing);
  assert.match(failures[0].message, /does not exist/);
  assert.ok(isOpenFailure(JSON.parse(JSON.stringify(failures[0]))), 'it survives the trip to main');
  assert.equal(events.length, 0);

  const folder = tempDir(t);
  await writeImageFolder(folder);
  await open(folder);
  assert.equal(failures.length, 1);
  assert.deepEqual(events, [{ type: 'datasetsChanged' }]);
  assert.equal(workstation.listDatasets()[0].imageCount, 4);
  assert.equal(isOpenFailure({ type: 'open-failed', folder: 1, message: 'x' }), false);
});
