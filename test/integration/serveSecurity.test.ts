// Serve mode's token and path-containment checks, attacked over real HTTP and WebSocket against
// a real `vsw serve` process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { writeImage, writeImageFolder } from '../helpers/images';
import { addDataset, login, rawGet, rawRequest, rpc } from '../helpers/serveClient';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

async function serverWithDataset(t: TestContext) {
  const root = tempDir(t);
  const outside = tempDir(t);
  await writeImageFolder(path.join(root, 'data'));
  await writeImage(path.join(outside, 'secret.png'), { colour: [1, 2, 3] });
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'data', 'cat', 'escape.png'));
  fs.symlinkSync(outside, path.join(root, 'data', 'outside-dir'));
  fs.writeFileSync(path.join(root, 'data', 'readme.txt'), 'not an image');
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  const added = await addDataset(server, cookie, path.join(root, 'data'));
  return { server, cookie, datasetId: added.dataset.id, root, outside, report: added.report };
}

test('without the token every request is refused with 401; the URL token becomes a strict cookie', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  for (const p of ['/', '/index.html', '/media/thumb/1/cat/one.png', '/assets/x.js', '/?token=wrong']) {
    assert.equal((await rawGet(server.origin, p)).status, 401, p);
  }
  assert.equal((await rawGet(server.origin, '/', 'vsw_token=wrong')).status, 401);
  const response = await rawGet(server.origin, `/?token=${server.token}`);
  assert.equal(response.status, 302);
  assert.equal(response.headers.location, '/', 'the token is dropped from the address bar');
  const setCookie = String(response.headers['set-cookie']);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  const page = await rawGet(server.origin, '/', setCookie.split(';')[0]);
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.match(page.body.toString(), /<div id="root">/);
});

test('the WebSocket refuses a connection without the cookie', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  await assert.rejects(
    rpc(server.origin, undefined, { kind: 'request', id: 1, method: 'app.info', params: {} }),
    /401/,
  );
  await assert.rejects(
    rpc(server.origin, 'vsw_token=nope', { kind: 'request', id: 1, method: 'app.info', params: {} }),
    /401/,
  );
  const cookie = await login(server);
  const reply = (await rpc(server.origin, cookie, {
    kind: 'request',
    id: 7,
    method: 'app.info',
    params: {},
  })) as {
    id: number;
    result: { shell: string };
  };
  assert.equal(reply.id, 7);
  assert.equal(reply.result.shell, 'serve');
});

test('it binds to 127.0.0.1 by default and warns when asked to listen beyond loopback', async (t) => {
  const local = await startServe(t, tempDir(t, 'vsw-data-'));
  assert.equal(new URL(local.url).hostname, '127.0.0.1');
  const wide = await startServe(t, tempDir(t, 'vsw-data-'), ['--host', '0.0.0.0', '--token', 'fixed-token']);
  assert.equal(wide.token, 'fixed-token');
  assert.match(wide.stderr(), /warning: listening on 0\.0\.0\.0/);
});

test('media: dataset images are served; every way around the containment check is refused', async (t) => {
  const { server, cookie, datasetId, report } = await serverWithDataset(t);
  const skipped = new Map(report.skipped.map((s) => [s.path, s.reason]));
  assert.match(skipped.get('cat/escape.png') ?? '', /outside the dataset folder/);
  assert.match(skipped.get('outside-dir') ?? '', /outside the dataset folder/);

  const ok = await rawGet(server.origin, `/media/thumb/${datasetId}/cat/one.png`, cookie);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'image/webp');
  assert.equal(ok.body.subarray(8, 12).toString(), 'WEBP');
  assert.equal(ok.headers['cross-origin-resource-policy'], 'same-origin', 'no embedding from another port');
  const original = await rawGet(server.origin, `/media/original/${datasetId}/dog/nested/four.png`, cookie);
  assert.equal(original.status, 200);
  assert.equal(original.body.subarray(1, 4).toString(), 'PNG');

  const attacks = [
    `/media/original/${datasetId}/../../../../etc/passwd`,
    `/media/original/${datasetId}/cat/../../../../etc/passwd`,
    `/media/original/${datasetId}/..%2F..%2F..%2Fetc%2Fpasswd`,
    `/media/original/${datasetId}/%2e%2e/%2e%2e/etc/passwd`,
    `/media/original/${datasetId}/%252e%252e/etc/passwd`,
    `/media/original/${datasetId}/%2Fetc%2Fpasswd`,
    `/media/original/${datasetId}//etc/passwd`,
    `/media/original/${datasetId}/cat%5C..%5C..%5Csecret.png`,
    `/media/original/${datasetId}/cat/escape.png`,
    `/media/original/${datasetId}/outside-dir/secret.png`,
    `/media/original/${datasetId}/readme.txt`,
    `/media/original/${datasetId}/cat/one.png%00.txt`,
    `/media/original/${datasetId + 1}/cat/one.png`,
  ];
  for (const attack of attacks) {
    const response = await rawGet(server.origin, attack, cookie);
    assert.ok([400, 403, 404].includes(response.status), `${attack} gave ${response.status}`);
    assert.doesNotMatch(response.body.toString('latin1'), /root:|PNG/, `${attack} leaked a file`);
  }
});

test('cross-port takeover: an upgrade from another origin is refused even with the cookie', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  const appInfo = { kind: 'request', id: 1, method: 'app.info', params: {} };
  const { port } = new URL(server.origin);
  for (const origin of [
    'http://localhost:9',
    'http://127.0.0.1:9',
    `http://evil.example:${port}`,
    `https://127.0.0.1:${port}`,
    'null',
  ]) {
    await assert.rejects(rpc(server.origin, cookie, appInfo, { origin }), /403/, origin);
  }
  // The page's own origin, as the browser sends it, is let in.
  const reply = (await rpc(server.origin, cookie, appInfo, { origin: server.origin })) as { ok: boolean };
  assert.equal(reply.ok, true);
});

test('DNS rebinding: a request whose Host is not this server is refused, with or without the token', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  const { port } = new URL(server.origin);
  for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, '127.0.0.1:1', 'localhost']) {
    const page = await rawRequest(server.origin, '/', { cookie, headers: { host } });
    assert.equal(page.status, 403, `Host: ${host}`);
    const withToken = await rawRequest(server.origin, `/?token=${server.token}`, { headers: { host } });
    assert.equal(withToken.status, 403, `Host: ${host} with the token`);
    await assert.rejects(
      rpc(server.origin, cookie, { kind: 'request', id: 1, method: 'app.info', params: {} }, { host }),
      /403/,
      `upgrade with Host: ${host}`,
    );
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
    assert.equal((await rawRequest(server.origin, '/', { cookie, headers: { host } })).status, 200, host);
  }
});

test('the cookie is named after the port, so two servers on one machine do not share it', async (t) => {
  const token = 'one-token-for-both-servers';
  const first = await startServe(t, tempDir(t, 'vsw-data-'), ['--token', token]);
  const second = await startServe(t, tempDir(t, 'vsw-data-'), ['--token', token]);
  const cookie = await login(first);
  assert.equal(cookie.split('=')[0], `vsw_token_${new URL(first.origin).port}`);
  assert.equal((await rawGet(first.origin, '/', cookie)).status, 200);
  assert.equal((await rawGet(second.origin, '/', cookie)).status, 401, "the first server's cookie");
});

test('an empty --token is refused with exit 2; a short one starts with a warning', async (t) => {
  const empty = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'bin', 'vsw.js'), 'serve', '--data-dir', tempDir(t, 'vsw-data-'), '--token', ''],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(empty.status, 2, empty.stderr);
  assert.match(empty.stderr, /--token must not be empty/);
  const short = await startServe(t, tempDir(t, 'vsw-data-'), ['--token', 'short']);
  assert.match(short.stderr(), /warning: the --token is 5 characters long/);
  const long = await startServe(t, tempDir(t, 'vsw-data-'), ['--token', 'a-token-of-sixteen+']);
  assert.doesNotMatch(long.stderr(), /warning/);
});
