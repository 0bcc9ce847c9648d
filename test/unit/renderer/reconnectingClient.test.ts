// The renderer's client when the service goes away: pending calls fail at once instead of hanging,
// the state says 'lost', reconnection backs off and succeeds, and calls made meanwhile wait for it
// or time out. Over in-memory channels to a real serveRpc (the transport is not what is tested).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createRpcClient,
  serveRpc,
  type Handlers,
  type MessageChannelLike,
} from '../../../electron/contract/rpc';
import { reconnectingClient, type ConnectionState } from '../../../renderer/src/client/reconnectingClient';

/** A connection to a fresh server side; `drop()` closes it as a dead WebSocket would. */
function connection(handlers: Handlers) {
  const toServer: ((m: unknown) => void)[] = [];
  const toClient: ((m: unknown) => void)[] = [];
  const onClose: (() => void)[] = [];
  let open = true;
  const clone = (m: unknown) => JSON.parse(JSON.stringify(m)) as unknown;
  const client: MessageChannelLike = {
    send: (m) => open && queueMicrotask(() => toServer.forEach((l) => l(clone(m)))),
    onMessage: (l) => toClient.push(l),
    onClose: (l) => onClose.push(l),
  };
  const push = serveRpc(
    {
      send: (m) => open && queueMicrotask(() => toClient.forEach((l) => l(clone(m)))),
      onMessage: (l) => toServer.push(l),
    },
    handlers,
  );
  return {
    client,
    push,
    drop: () => {
      open = false;
      onClose.forEach((l) => l());
    },
  };
}

let served = 0;
const handlers = {
  'app.info': () => ({ version: '1', dataDir: 'd', reviewer: `r${++served}`, shell: 'serve' as const }),
  'jobs.list': () => new Promise(() => undefined), // never answers
} as unknown as Handlers;

test('a call pending when the connection closes fails at once with "disconnected"', async () => {
  const link = connection(handlers);
  const client = createRpcClient(link.client);
  const pending = client.call('jobs.list', {});
  await new Promise((r) => setTimeout(r, 10));
  link.drop();
  await assert.rejects(pending, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'disconnected');
    assert.match(e.message, /went away before answering jobs\.list/);
    return true;
  });
});

test('it reconnects with backoff, announces each state, and forwards events of the new connection', async () => {
  const links: ReturnType<typeof connection>[] = [];
  let refusals = 2; // the service is down for two attempts
  const delays: number[] = [];
  const service = await reconnectingClient(
    async () => {
      if (links.length > 0 && refusals-- > 0) throw new Error('connection refused');
      const link = connection(handlers);
      links.push(link);
      return link.client;
    },
    {
      backoff: (attempt) => {
        delays.push(attempt);
        return 5;
      },
    },
  );
  const states: ConnectionState[] = [];
  service.onState((s) => states.push(s));
  const events: string[] = [];
  service.client.onEvent((e) => events.push(e.type));
  assert.match((await service.client.call('app.info', {})).reviewer, /^r\d+$/);

  const pending = service.client.call('jobs.list', {});
  links[0].drop();
  await assert.rejects(pending, /went away/);
  assert.equal(service.state().status, 'lost');
  // A call made while the service is away waits for it rather than failing or hanging.
  const waiting = service.client.call('app.info', {});
  assert.ok((await waiting).reviewer);
  assert.deepEqual(
    states.map((s) => `${s.status}:${s.epoch}:${s.attempt}`),
    ['lost:0:0', 'lost:0:1', 'lost:0:2', 'connected:1:2'],
  );
  assert.deepEqual(delays, [0, 1, 2], 'attempts 0, 1 and 2 were each delayed by the backoff');
  links[1].push({ type: 'datasetsChanged' });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ['datasetsChanged']);
  service.stop();
});

test('a call made while the service is away fails with a timeout if it does not come back', async () => {
  let first = true;
  const link = connection(handlers);
  const service = await reconnectingClient(
    async () => {
      if (!first) throw new Error('connection refused');
      first = false;
      return link.client;
    },
    { backoff: () => 50, callWaitMs: 30 },
  );
  link.drop();
  await assert.rejects(service.client.call('app.info', {}), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'timeout');
    assert.match(e.message, /did not come back within 0\.03 s \(app\.info\)/);
    return true;
  });
  assert.equal(service.state().status, 'lost');
  service.stop();
});
