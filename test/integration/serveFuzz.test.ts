// About 2,000 random and mutated requests against a real `vsw serve`: HTTP paths, methods and
// headers; raw bytes that are not HTTP at all; and RPC messages (not JSON, wrong shapes, unknown
// methods, huge strings, deep nesting, every contract method with random params). Afterwards the
// server must still answer, must not have logged a single uncaught fault, and its database must
// pass SQLite's integrity check. Seeded: a failure names the seed that reproduces it.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type WebSocket from 'ws';
import { methods } from '../../electron/contract/protocol';
import { writeImageFolder } from '../helpers/images';
import { addDataset, assertServing, login, openRpc, rawRequest, rpc } from '../helpers/serveClient';
import { startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';

const SEED = Number(process.env.VSW_FUZZ_SEED ?? 20261130);
const HTTP_REQUESTS = 700;
const RAW_CONNECTIONS = 60;
const RPC_MESSAGES = 1300;

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

function deepNesting(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function mutatePath(r: Random, base: string): string {
  const pieces = [
    '%',
    '%E0%A4%A',
    '%00',
    '%2e%2e/',
    '../',
    '//',
    '%ZZ',
    '%C0%AF',
    '%F0%9F%92%A5',
    '?',
    '#',
    ';',
    '%25',
  ];
  let out = base;
  for (let i = r.int(4); i >= 0; i--) {
    const at = r.int(out.length + 1);
    const piece =
      r.next() < 0.8 ? r.pick(pieces) : `%${r.int(256).toString(16).padStart(2, '0')}`.repeat(1 + r.int(3));
    out = out.slice(0, at) + piece + out.slice(at);
  }
  if (r.next() < 0.05) out += 'a'.repeat(2000 + r.int(6000));
  return out.startsWith('/') ? out : `/${out}`;
}

test(`fuzz: ${HTTP_REQUESTS + RAW_CONNECTIONS + RPC_MESSAGES} hostile requests leave serve mode up and its database sound`, async (t) => {
  const r = generator(SEED);
  const work = tempDir(t);
  const data = path.join(work, 'data');
  await writeImageFolder(data);
  const dataDir = tempDir(t, 'vsw-data-');
  // The server's working folder is the temp folder: a relative export path lands there.
  const server = await startServe(t, dataDir, [], { cwd: work });
  const cookie = await login(server);
  const datasetId = (await addDataset(server, cookie, data)).dataset.id;
  await rpc(server.origin, cookie, {
    kind: 'request',
    id: 2,
    method: 'tags.create',
    params: { datasetId, name: 'fp' },
  });
  const counts = {
    http: 0,
    raw: 0,
    rpc: 0,
    answered: 0,
    statuses: new Map<number, number>(),
    outcomes: new Map<string, number>(),
  };

  // ---- HTTP: mutated paths, odd methods, bad cookies and hosts ----
  const bases = [
    '/',
    '/index.html',
    `/media/thumb/${datasetId}/cat/one.png`,
    `/media/original/${datasetId}/dog/nested/four.png`,
    `/media/original/${datasetId}/cat/two.jpg`,
    '/assets/index.js',
    '/rpc',
    `/?token=${server.token}`,
  ];
  const { port } = new URL(server.origin);
  for (let i = 0; i < HTTP_REQUESTS; i++) {
    const headers: Record<string, string> = {};
    const roll = r.next();
    if (roll < 0.05) headers.host = r.pick(['evil.example', `evil.example:${port}`, 'localhost:1', '[::1]']);
    if (roll > 0.95) headers.origin = r.pick(['http://localhost:9', 'null', server.origin]);
    const target = mutatePath(r, r.pick(bases));
    const method =
      r.next() < 0.85 ? 'GET' : r.pick(['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);
    const response = await rawRequest(server.origin, target, {
      method,
      cookie: r.next() < 0.9 ? cookie : r.pick(['vsw_token=x', `${cookie}x`, '=;=;', 'a'.repeat(4000)]),
      headers,
      body: r.next() < 0.1 ? '{"kind":"request"' : undefined,
    }).catch((e: Error) => {
      throw new Error(`HTTP ${i} ${method} ${target.slice(0, 100)} ${JSON.stringify(headers)}: ${e.message}`);
    });
    counts.http++;
    counts.statuses.set(response.status, (counts.statuses.get(response.status) ?? 0) + 1);
    assert.ok(
      response.status < 500,
      `HTTP ${i} ${target.slice(0, 200)} answered ${response.status}: ${response.body.toString().slice(0, 200)} (seed ${SEED})`,
    );
  }

  // ---- Raw bytes: what is not HTTP, or is broken HTTP ----
  for (let i = 0; i < RAW_CONNECTIONS; i++) {
    const bytes =
      i % 3 === 0
        ? Buffer.from(Array.from({ length: 1 + r.int(2000) }, () => r.int(256)))
        : Buffer.from(
            r.pick([
              `GET /${'%'.repeat(r.int(50))} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
              `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: -5\r\n\r\n`,
              `GET /rpc HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
              `GET /rpc HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`,
              `BREW /pot HTTP/1.1\r\n\r\n`,
              `GET / HTTP/9.9\r\nHost: ${'h'.repeat(20000)}\r\n\r\n`,
            ]),
          );
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(bytes));
      socket.on('data', () => undefined);
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.setTimeout(3000, () => socket.destroy());
    });
    counts.raw++;
  }

  // ---- RPC: a few sockets, messages answered by id ----
  const strings = [
    '',
    'x',
    '💥',
    '%E0%A4%A',
    "'; DROP TABLE images;--",
    '<script>',
    '\u0000',
    'a'.repeat(100_000),
  ];
  const paths = [path.join(work, 'nope'), path.join(work, 'out', String(r.int(1000))), data, 'relative-out'];
  const plausible: Record<string, () => unknown> = {
    datasetId: () => r.pick([datasetId, datasetId + 1, 0, -1]),
    imageId: () => r.int(6),
    runId: () => r.int(3),
    tagId: () => r.int(4),
    jobId: () => r.int(4),
    path: () => r.pick(paths),
    out: () => r.pick(paths),
    model: () => r.pick(paths),
    from: () => r.pick(paths),
    to: () => r.pick(paths),
    query: () => ({ datasetId: r.pick([datasetId, 99]) }),
    selection: () => r.pick([{ imageIds: [1, 2, 3] }, { query: { datasetId } }, { imageIds: [] }]),
    method: () => r.pick(['rollout', 'last-attn', 'nope']),
    layout: () => r.pick(['imagefolder', 'flat']),
    media: () => r.pick(['copy', 'symlink']),
    limit: () => r.pick([1, 5000, 5001]),
    name: () => r.pick(strings),
  };
  const randomValue = (depth: number): unknown => {
    switch (r.int(depth > 2 ? 8 : 11)) {
      case 0:
        return r.pick([0, 1, 2, -1, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, -0]);
      case 1:
        return r.pick([true, false, null]);
      case 2:
      case 3:
        return r.pick(strings);
      case 4:
        return r.pick(paths);
      case 5:
        return r.pick([[], {}, { datasetId }]);
      case 6:
        return `${'x'.repeat(r.int(20))}`;
      case 7:
        return JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
      case 8:
        return Array.from({ length: r.int(5) }, () => randomValue(depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: r.int(4) }, () => [r.pick(Object.keys(plausible)), randomValue(depth + 1)]),
        );
    }
  };
  const methodNames = Object.keys(methods);
  const methodsCalled = new Set<string>();
  const paramsFor = (method: string): unknown => {
    const schema = (methods as Record<string, { params: { shape?: Record<string, unknown> } }>)[method]
      .params;
    const keys = Object.keys(schema.shape ?? {});
    const params: Record<string, unknown> = {};
    for (const key of keys) {
      if (r.next() < 0.15) continue;
      params[key] = r.next() < 0.6 && plausible[key] ? plausible[key]() : randomValue(0);
    }
    if (r.next() < 0.1) params[r.pick(strings).slice(0, 20) || 'extra'] = randomValue(0);
    return params;
  };
  let nextId = 100;
  const message = (): { text: string; id: number | null } => {
    const id = nextId++;
    const roll = r.int(10);
    if (roll === 0)
      return {
        text: r.pick(['not json', '{', '"just a string"', '42', 'null', '[]', '{"kind":"request"}']),
        id: null,
      };
    if (roll === 1)
      return {
        text: JSON.stringify(
          r.pick([{ kind: 'request', id: 'one' }, { kind: 'response', id, ok: true }, { id }, [id]]),
        ),
        id: null,
      };
    if (roll === 2) {
      const method = r.pick([
        'nope',
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'x'.repeat(50_000),
      ]);
      return { text: JSON.stringify({ kind: 'request', id, method, params: {} }), id };
    }
    if (roll === 3)
      return {
        text: `{"kind":"request","id":${id},"method":"${r.pick(methodNames)}","params":${deepNesting(5000 + r.int(50_000))}}`,
        id,
      };
    if (roll === 4)
      return {
        text: JSON.stringify({
          kind: 'request',
          id,
          method: r.pick(methodNames),
          params: { big: 'b'.repeat(1_000_000) },
        }),
        id,
      };
    const method = r.pick(methodNames);
    methodsCalled.add(method);
    return { text: JSON.stringify({ kind: 'request', id, method, params: paramsFor(method) }), id };
  };

  const sockets: WebSocket[] = [];
  for (let i = 0; i < 4; i++) sockets.push(await openRpc(server.origin, cookie));
  const waiting = new Map<number, () => void>();
  for (const socket of sockets) {
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as {
        kind: string;
        id: number;
        ok: boolean;
        error?: { code: string };
      };
      if (reply.kind !== 'response') return;
      const outcome = reply.ok ? 'ok' : (reply.error?.code ?? '?');
      counts.outcomes.set(outcome, (counts.outcomes.get(outcome) ?? 0) + 1);
      waiting.get(reply.id)?.();
    });
  }
  const answered = (id: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`RPC ${id} got no answer in 20 s (seed ${SEED})`)),
        20_000,
      );
      waiting.set(id, () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      });
    });
  for (let sent = 0; sent < RPC_MESSAGES;) {
    const batch: Promise<void>[] = [];
    for (const socket of sockets) {
      if (sent >= RPC_MESSAGES) break;
      const { text, id } = message();
      if (id !== null) batch.push(answered(id).then(() => void counts.answered++));
      socket.send(text);
      sent++;
      counts.rpc++;
    }
    await Promise.all(batch);
  }
  for (const socket of sockets) socket.close();

  // ---- Afterwards: alive, no fault logged, database sound ----
  await assertServing(server, cookie);
  assert.deepEqual(
    [...methodsCalled].sort(),
    [...methodNames].sort(),
    'every contract method had random params',
  );
  const crashes = server.stderr().match(/kept running/g)?.length ?? 0;
  assert.equal(crashes, 0, `faults nobody caught: ${server.stderr()}`);
  const db = new Database(path.join(dataDir, 'vsw.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const sent = counts.http + counts.raw + counts.rpc;
  console.log(
    `fuzz (seed ${SEED}): ${sent} sent (${counts.http} HTTP, ${counts.raw} raw connections, ${counts.rpc} RPC; ` +
      `${counts.answered} RPC answers awaited and received); HTTP statuses ${JSON.stringify(Object.fromEntries(counts.statuses))}; ` +
      `RPC outcomes ${JSON.stringify(Object.fromEntries(counts.outcomes))}; server still up, uncaught faults ${crashes}`,
  );
});
