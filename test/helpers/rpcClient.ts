// A WebSocket RPC client for a real `vsw serve` (as the renderer uses it): logs in with the URL
// token, then calls methods and collects the service's events.
import http from 'node:http';
import WebSocket from 'ws';
import type { ServiceEvent } from '../../electron/contract/protocol';
import type { ServeProcess } from './serveProcess';

export interface RpcClient {
  call<T = unknown>(method: string, params: unknown): Promise<T>;
  events: ServiceEvent[];
  /** Resolves with the first event (already seen or to come) that `match` accepts. */
  waitForEvent(match: (event: ServiceEvent) => boolean, timeoutMs?: number): Promise<ServiceEvent>;
  close(): void;
}

/** The session cookie the server sets for the token in its URL. */
export function login(server: ServeProcess): Promise<string> {
  const { hostname, port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: `/?token=${server.token}` }, (response) => {
        response.resume();
        const cookie = String(response.headers['set-cookie'] ?? '').split(';')[0];
        if (!cookie) reject(new Error(`no cookie from ${server.origin} (status ${response.statusCode})`));
        else resolve(cookie);
      })
      .on('error', reject);
  });
}

export async function connectRpc(server: ServeProcess): Promise<RpcClient> {
  const cookie = await login(server);
  const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/rpc`, {
    headers: { cookie, origin: server.origin },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const events: ServiceEvent[] = [];
  const waiters = new Set<{ match: (e: ServiceEvent) => boolean; resolve: (e: ServiceEvent) => void }>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as {
      kind: string;
      id?: number;
      ok?: boolean;
      result?: unknown;
      error?: { message: string };
      event?: ServiceEvent;
    };
    if (message.kind === 'event' && message.event) {
      events.push(message.event);
      for (const w of waiters)
        if (w.match(message.event)) {
          waiters.delete(w);
          w.resolve(message.event);
        }
    } else if (message.kind === 'response' && message.id !== undefined) {
      const p = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) p?.resolve(message.result);
      else p?.reject(new Error(message.error?.message ?? 'RPC error'));
    }
  });
  socket.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('the RPC socket closed'));
    pending.clear();
  });
  return {
    events,
    call<T>(method: string, params: unknown): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ kind: 'request', id, method, params }));
      });
    },
    waitForEvent(match, timeoutMs = 120_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (e: ServiceEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching event in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => socket.close(),
  };
}

export const isJobEvent = (jobId: number, type: ServiceEvent['type']) => (e: ServiceEvent) =>
  e.type === type && 'job' in e && typeof e.job === 'object' && e.job.id === jobId;

/**
 * Cancels a job once it has done `after` items and waits until it stops; returns what
 * `checkpoint` counted right after the cancel was recorded.
 */
export async function cancelJobAfter(
  rpc: RpcClient,
  jobId: number,
  after: number,
  checkpoint: () => number = () => 0,
): Promise<number> {
  await rpc.waitForEvent((e) => e.type === 'job.progress' && e.jobId === jobId && e.done >= after);
  await rpc.call('jobs.cancel', { jobId });
  const atCancel = checkpoint();
  await rpc.waitForEvent(isJobEvent(jobId, 'job.cancelled'));
  return atCancel;
}
