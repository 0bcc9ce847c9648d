// Serve mode's token and path-containment checks, attacked over real HTTP and WebSocket against
// a real `vsw serve` process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { writeImage, writeImageFolder } from '../helpers/images';
import { startServe, type ServeProcess } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

/** A raw GET that sends the path exactly as written (no URL normalisation by the client). */
function rawGet(origin: string, rawPath: string, cookie?: string) {
  const { hostname, port } = new URL(origin);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const request = http.request(
        { hostname, port, path: rawPath, headers: cookie ? { cookie } : {} },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () =>
            resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    },
  );
}

async function login(server: ServeProcess): Promise<string> {
  const response = await rawGet(server.origin, `/?token=${server.token}`);
  assert.equal(response.status, 302);
  const setCookie = String(response.headers['set-cookie']);
  return setCookie.split(';')[0];
}

function rpc(origin: string, cookie: string | undefined, message: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/rpc`, {
      headers: cookie ? { cookie } : {},
    });
    socket.on('open', () => socket.send(JSON.stringify(message)));
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { kind: string };
      if (reply.kind !== 'response') return; // progress events may come first
      resolve(reply);
      socket.close();
    });
    socket.on('error', reject);
  });
}

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
  const added = (await rpc(server.origin, cookie, {
    kind: 'request',
    id: 1,
    method: 'datasets.add',
    params: { path: path.join(root, 'data') },
  })) as {
    ok: boolean;
    result: { dataset: { id: number }; report: { skipped: { path: string; reason: string }[] } };
  };
  assert.equal(added.ok, true);
  return { server, cookie, datasetId: added.result.dataset.id, root, outside, report: added.result.report };
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
