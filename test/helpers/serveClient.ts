// Talks to a `vsw serve` process the way an attacker or a fuzzer would: raw HTTP requests with
// exactly the path and headers given, and WebSocket RPC with chosen headers.
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import type { ServeProcess } from './serveProcess';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request that sends the path exactly as written (no URL normalisation by the client). */
export function rawRequest(
  origin: string,
  rawPath: string,
  options: { cookie?: string; headers?: http.OutgoingHttpHeaders; method?: string; body?: string } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  const headers = { ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers };
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname, port, path: rawPath, headers, method: options.method ?? 'GET', agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

export const rawGet = (origin: string, rawPath: string, cookie?: string) =>
  rawRequest(origin, rawPath, { cookie });

/** Trades the URL token for the session cookie, as a browser does; returns `name=value`. */
export async function login(server: ServeProcess): Promise<string> {
  const response = await rawGet(server.origin, `/?token=${server.token}`);
  assert.equal(response.status, 302);
  return String(response.headers['set-cookie']).split(';')[0];
}

/** Opens the RPC WebSocket; rejects with the HTTP status of a refused upgrade. */
export function openRpc(
  origin: string,
  cookie: string | undefined,
  headers: Record<string, string> = {},
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${origin.replace('http', 'ws')}/rpc`, {
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    socket.on('open', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** One request over a fresh socket; resolves with the response message. */
export async function rpc(
  origin: string,
  cookie: string | undefined,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const socket = await openRpc(origin, cookie, headers);
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { kind: string };
      if (reply.kind !== 'response') return; // progress events may come first
      resolve(reply);
      socket.close();
    });
    socket.on('error', reject);
    socket.send(JSON.stringify(message));
  });
}

/** The server process is still running and answers an RPC health call. */
export async function assertServing(server: ServeProcess, cookie: string): Promise<void> {
  assert.equal(server.child.exitCode, null, `the server exited; stderr: ${server.stderr()}`);
  const reply = (await rpc(server.origin, cookie, {
    kind: 'request',
    id: 9,
    method: 'app.info',
    params: {},
  })) as {
    ok: boolean;
  };
  assert.equal(reply.ok, true);
}

export interface AddedDataset {
  dataset: { id: number };
  report: { skipped: { path: string; reason: string }[] };
}

/** Adds a folder as a dataset over RPC, as the Datasets view does. */
export async function addDataset(
  server: ServeProcess,
  cookie: string,
  folder: string,
): Promise<AddedDataset> {
  const reply = (await rpc(server.origin, cookie, {
    kind: 'request',
    id: 1,
    method: 'datasets.add',
    params: { path: folder },
  })) as { ok: boolean; result: AddedDataset; error?: { message: string } };
  assert.equal(reply.ok, true, reply.error?.message);
  return reply.result;
}
