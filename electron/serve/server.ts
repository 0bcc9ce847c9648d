// Serve mode: the service behind HTTP and a WebSocket on loopback, token-protected, with the
// renderer and dataset media. The same UI as in Electron, for a browser (and the browser tests).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRpc, type MessageChannelLike } from '../contract/rpc';
import { Broadcast } from '../service/broadcast';
import { createHandlers } from '../service/handlers';
import { parseMediaPath } from '../service/mediaRequest';
import { appVersion } from '../service/version';
import { Workstation } from '../workstation/workstation';
import { authenticate, tokenCookie } from './tokenAuth';
import { rendererDir, serveStatic } from './staticFiles';

export interface ServeOptions {
  dataDir: string;
  reviewer: string;
  host: string;
  port: number;
  token: string;
  staticDir?: string;
}

export interface RunningServer {
  url: string;
  workstation: Workstation;
  close(): Promise<void>;
}

function websocketChannel(socket: WebSocket): MessageChannelLike {
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    onMessage: (listener) =>
      socket.on('message', (data) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(data));
        } catch {
          parsed = { invalidJson: true };
        }
        listener(parsed);
      }),
  };
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const workstation = new Workstation({ dataDir: options.dataDir, reviewer: options.reviewer });
  const broadcast = new Broadcast();
  const handlers = createHandlers(workstation, 'serve', appVersion(), broadcast.emit);
  const staticDir = options.staticDir ?? rendererDir();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (socket) => {
    const remove = broadcast.add(serveRpc(websocketChannel(socket), handlers));
    socket.on('close', remove);
  });

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const auth = authenticate(request, url, options.token);
    if (auth === 'refused') {
      response
        .writeHead(401, { 'Content-Type': 'text/plain' })
        .end('401: open the URL printed by `vsw serve` (it holds the token)');
      return;
    }
    if (auth === 'url') {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      response.writeHead(302, {
        'Set-Cookie': tokenCookie(options.token),
        Location: url.pathname + url.search,
      });
      response.end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end();
      return;
    }
    if (url.pathname.startsWith('/media/')) {
      const media = parseMediaPath(url.pathname.slice('/media'.length));
      if (!media) {
        response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad media path');
        return;
      }
      try {
        const file = await workstation.mediaFile(media.kind, media.datasetId, media.relPath);
        response.writeHead(200, {
          'Content-Type': media.kind === 'thumb' ? 'image/webp' : 'application/octet-stream',
          'Cache-Control': 'private, max-age=3600',
          'X-Content-Type-Options': 'nosniff',
        });
        fs.createReadStream(file).pipe(response);
      } catch (error) {
        const code = (error as { code?: string }).code;
        const status = code === 'forbidden' ? 403 : code === 'not-found' ? 404 : 500;
        response.writeHead(status, { 'Content-Type': 'text/plain' }).end((error as Error).message);
      }
      return;
    }
    serveStatic(staticDir, url.pathname, response);
  });

  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/rpc' || authenticate(request, url, options.token) === 'refused') {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/?token=${options.token}`,
    workstation,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      workstation.close();
    },
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
