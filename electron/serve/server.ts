// Serve mode: the service behind HTTP and a WebSocket on loopback, token-protected, with the
// renderer and dataset media. The same UI as in Electron, for a browser (and the browser tests).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveRpc, type MessageChannelLike } from '../contract/rpc';
import { Broadcast } from '../service/broadcast';
import { createHandlers } from '../service/handlers';
import { parseMediaPath } from '../service/mediaRequest';
import { appVersion } from '../service/version';
import { Workstation } from '../workstation/workstation';
import { hostAllowed, originAllowed } from './requestChecks';
import { sendFile, sendText } from './sendFile';
import { rendererDir, serveStatic } from './staticFiles';
import { authenticate, tokenCookie } from './tokenAuth';

/** The largest WebSocket message the server reads; a bigger one closes that socket (code 1009). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

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
    send: (message) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
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

const log = (line: string) => console.error(`vsw serve: ${line}`);

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const workstation = new Workstation({ dataDir: options.dataDir, reviewer: options.reviewer });
  const broadcast = new Broadcast();
  const handlers = createHandlers(workstation, 'serve', appVersion(), broadcast.emit);
  const staticDir = options.staticDir ?? rendererDir();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  wss.on('connection', (socket) => {
    // ws reports an oversized or malformed frame as an 'error' and then closes the socket; without
    // a listener that error would end the process.
    socket.on('error', (error) => log(`WebSocket closed: ${error.message}`));
    const remove = broadcast.add(serveRpc(websocketChannel(socket), handlers));
    socket.on('close', remove);
  });
  let port = options.port; // the real one once listening (options.port may be 0)

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (!hostAllowed(request.headers.host, options.host, port)) {
      sendText(
        response,
        403,
        `403: this server answers only to localhost:${port} or ${options.host}:${port}`,
      );
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const auth = authenticate(request, url, options.token, port);
    if (auth === 'refused') {
      sendText(response, 401, '401: open the URL printed by `vsw serve` (it holds the token)');
      return;
    }
    if (auth === 'url') {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      response.writeHead(302, {
        'Set-Cookie': tokenCookie(options.token, port),
        Location: url.pathname + url.search,
      });
      response.end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname.startsWith('/media/')) {
      const media = parseMediaPath(url.pathname.slice('/media'.length));
      if (!media) {
        sendText(response, 400, 'bad media path');
        return;
      }
      let file: string;
      try {
        file = await workstation.mediaFile(media.kind, media.datasetId, media.relPath);
      } catch (error) {
        const code = (error as { code?: string }).code;
        const status = code === 'forbidden' ? 403 : code === 'not-found' ? 404 : 500;
        sendText(response, status, (error as Error).message);
        return;
      }
      await sendFile(
        response,
        file,
        {
          'Content-Type': media.kind === 'thumb' ? 'image/webp' : 'application/octet-stream',
          'Cache-Control': 'private, max-age=3600',
          'X-Content-Type-Options': 'nosniff',
          // A page of another origin (another local port included) may not even embed it.
          'Cross-Origin-Resource-Policy': 'same-origin',
        },
        request.method,
      );
      return;
    }
    await serveStatic(staticDir, url.pathname, response, request.method);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`);
      sendText(
        response,
        error instanceof URIError || error instanceof TypeError ? 400 : 500,
        'request failed',
      );
    });
  });

  server.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    if (
      !hostAllowed(request.headers.host, options.host, port) ||
      !originAllowed(request.headers.origin, request.headers.host)
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    if (url.pathname !== '/rpc' || authenticate(request, url, options.token, port) === 'refused') {
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
  port = address.port;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/?token=${encodeURIComponent(options.token)}`,
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
