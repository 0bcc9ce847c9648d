// The protocol over an in-memory channel: requests validated on arrival, errors name the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createRpcClient,
  serveRpc,
  type Handlers,
  type MessageChannelLike,
} from '../../../electron/contract/rpc';

function pair(): [MessageChannelLike, MessageChannelLike, unknown[]] {
  const toServer: ((m: unknown) => void)[] = [];
  const toClient: ((m: unknown) => void)[] = [];
  const seenByClient: unknown[] = [];
  const clone = (m: unknown) => JSON.parse(JSON.stringify(m)) as unknown;
  return [
    {
      send: (m) => queueMicrotask(() => toServer.forEach((l) => l(clone(m)))),
      onMessage: (l) => toClient.push(l),
    },
    {
      send: (m) =>
        queueMicrotask(() => {
          seenByClient.push(clone(m));
          toClient.forEach((l) => l(clone(m)));
        }),
      onMessage: (l) => toServer.push(l),
    },
    seenByClient,
  ];
}

const handlers = {
  'app.info': () => ({ version: '1.2.3', dataDir: 'data', reviewer: 'ana', shell: 'serve' as const }),
  'images.page': ({ datasetId, limit }: { datasetId: number; limit: number }) => ({
    items: [],
    total: datasetId * 1000 + limit,
    nextAfter: null,
  }),
} as unknown as Handlers;

test('a request is answered with its validated result, defaults applied', async () => {
  const [clientSide, serverSide] = pair();
  serveRpc(serverSide, handlers);
  const client = createRpcClient(clientSide);
  assert.equal((await client.call('app.info', {})).reviewer, 'ana');
  // limit defaults to 500 when not given
  assert.equal((await client.call('images.page', { datasetId: 3 })).total, 3500);
});

test('a malformed payload is rejected with an error naming the field', async () => {
  const [clientSide, serverSide] = pair();
  serveRpc(serverSide, handlers);
  const client = createRpcClient(clientSide);
  await assert.rejects(
    client.call('images.page', { datasetId: 'seven' as unknown as number }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'bad-params');
      assert.match(error.message, /params\.datasetId/);
      return true;
    },
  );
  await assert.rejects(client.call('images.page', { datasetId: 1, limit: 0 }), /params\.limit/);
  await assert.rejects(
    client.call('images.page', { datasetId: 1, surprise: true } as unknown as { datasetId: number }),
    /surprise/,
  );
});

test('an unknown method and a message that is not a request are refused', async () => {
  const [clientSide, serverSide, seen] = pair();
  serveRpc(serverSide, handlers);
  const client = createRpcClient(clientSide);
  await assert.rejects(client.call('no.such' as 'app.info', {}), /unknown method "no\.such"/);
  clientSide.send({ kind: 'request', id: 'x', method: 'app.info' });
  clientSide.send({ hello: 'world' });
  await new Promise((r) => setTimeout(r, 10));
  const errors = seen.filter((m) => (m as { ok?: boolean }).ok === false) as {
    error: { message: string; code: string };
  }[];
  assert.ok(errors.some((e) => e.error.code === 'bad-message' && /message\.id/.test(e.error.message)));
  assert.ok(errors.some((e) => e.error.code === 'bad-message' && /message\.kind/.test(e.error.message)));
});
