// The requests that used to end `vsw serve` with one shot: a bad percent-escape, a media file that
// turns into a folder or vanishes, an oversized WebSocket message, and any exception nobody
// caught. Each must be answered (or the one socket closed) while the server keeps serving.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { sendFile } from '../../electron/serve/sendFile';
import { writeImageFolder } from '../helpers/images';
import { addDataset, assertServing, login, openRpc, rawGet } from '../helpers/serveClient';
import { repoRoot, startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

async function servedDataset(t: TestContext) {
  const data = path.join(tempDir(t), 'data');
  await writeImageFolder(data);
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  const added = await addDataset(server, cookie, data);
  return { server, cookie, data, datasetId: added.dataset.id };
}

test('a malformed percent-escape in the path answers 400 and the server stays up', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  for (const bad of ['/%E0%A4%A', '/%', '/assets/%ZZ.js', '/%C0%AF', '/media/thumb/1/%E0%A4%A']) {
    const response = await rawGet(server.origin, bad, cookie);
    assert.ok(response.status === 400 || response.status === 404, `${bad} gave ${response.status}`);
  }
  await assertServing(server, cookie);
});

test('a media file that became a folder or vanished answers 404 and the server stays up', async (t) => {
  const { server, cookie, data, datasetId } = await servedDataset(t);
  const url = `/media/original/${datasetId}/cat/one.png`;
  assert.equal((await rawGet(server.origin, url, cookie)).status, 200);
  fs.rmSync(path.join(data, 'cat', 'one.png'));
  fs.mkdirSync(path.join(data, 'cat', 'one.png'));
  assert.equal((await rawGet(server.origin, url, cookie)).status, 404, 'a folder where the image was');
  fs.rmSync(path.join(data, 'cat', 'one.png'), { recursive: true });
  assert.equal((await rawGet(server.origin, url, cookie)).status, 404, 'the image is gone');
  await assertServing(server, cookie);
});

/** Serves one call of sendFile on a real HTTP server and returns the status the client saw. */
async function statusOfSendFile(t: TestContext, file: string): Promise<number> {
  const server = http.createServer((_request, response) => void sendFile(response, file, {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  return (await rawGet(`http://127.0.0.1:${port}`, '/')).status;
}

test('sendFile: a file missing, a folder, or a FIFO at the time of the read gives 404, not a crash', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'present.bin'), 'bytes');
  assert.equal(await statusOfSendFile(t, path.join(dir, 'present.bin')), 200);
  // The media route checks the path first and reads it afterwards; these are what the read can meet.
  assert.equal(await statusOfSendFile(t, path.join(dir, 'vanished.bin')), 404);
  assert.equal(await statusOfSendFile(t, dir), 404);
  const fifo = path.join(dir, 'pipe');
  if (spawnSync('mkfifo', [fifo]).status === 0)
    assert.equal(await statusOfSendFile(t, fifo), 404, 'a FIFO is not served (nor waited on)');
});

test(
  'sendFile: a file without read permission gives 403',
  { skip: process.getuid?.() === 0 ? 'root reads every file, so EACCES cannot be made here' : false },
  async (t) => {
    const file = path.join(tempDir(t), 'locked.bin');
    fs.writeFileSync(file, 'bytes');
    fs.chmodSync(file, 0o000);
    assert.equal(await statusOfSendFile(t, file), 403);
  },
);

test('a WebSocket message over the size limit closes that socket (1009) and the server stays up', async (t) => {
  const server = await startServe(t, tempDir(t, 'vsw-data-'));
  const cookie = await login(server);
  const socket = await openRpc(server.origin, cookie);
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('error', () => undefined);
  socket.send(
    JSON.stringify({ kind: 'request', id: 1, method: 'app.info', params: 'x'.repeat(17 * 1024 * 1024) }),
  );
  assert.equal(await closed, 1009);
  await assertServing(server, cookie);
});

test('the crash guard logs an exception nobody caught and the process keeps running', async () => {
  const guard = path.join(repoRoot, 'dist', 'electron', 'service', 'crashGuard.js');
  const script = `
    require(${JSON.stringify(guard)}).installCrashGuard();
    setTimeout(() => { throw new Error('boom from a timer'); }, 10);
    setTimeout(() => Promise.reject(new Error('boom from a promise')), 20);
    setTimeout(() => { console.log('still serving'); }, 200);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, err);
  assert.match(out, /still serving/);
  assert.match(err, /uncaught exception \(kept running\): Error: boom from a timer/);
  assert.match(err, /unhandled promise rejection \(kept running\): Error: boom from a promise/);
});
