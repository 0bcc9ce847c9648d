// Serves the built renderer (dist/renderer) with a strict Content-Security-Policy.
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { sendFile, sendText } from './sendFile';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The policy's directives; Electron's shell adds its media scheme (see electron/main). */
export function contentSecurityPolicy(mediaSources: string[] = []): string {
  const media = mediaSources.map((source) => ` ${source}`).join('');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${media}`,
    `connect-src 'self'${media}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Serve mode's policy, sent with every page and asset. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

export function rendererDir(): string {
  // compiled: dist/electron/serve → dist/renderer
  return path.resolve(__dirname, '../../renderer');
}

export async function serveStatic(
  dir: string,
  urlPath: string,
  response: ServerResponse,
  method = 'GET',
): Promise<void> {
  let relative: string;
  try {
    relative = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '');
  } catch {
    sendText(response, 400, 'bad percent-encoding in the path');
    return;
  }
  const file = path.resolve(dir, relative);
  if (!file.startsWith(dir + path.sep)) {
    sendText(response, 404, 'not found');
    return;
  }
  await sendFile(
    response,
    file,
    {
      'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      // A page of another origin (another local port included) may not even embed it.
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': file.endsWith('index.html') ? 'no-cache' : 'max-age=3600',
    },
    method,
  );
}
