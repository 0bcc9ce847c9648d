// Serve mode's access check: the token from the printed URL, exchanged once for an HttpOnly,
// SameSite=Strict cookie so that assets, images, the WebSocket and reloads carry it.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'vsw_token';

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function cookieToken(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE_NAME) return rest.join('=');
  }
  return undefined;
}

export type AuthResult = 'cookie' | 'url' | 'refused';

/** How the request proved it holds the token: by cookie, by `?token=` in the URL, or not at all. */
export function authenticate(request: IncomingMessage, url: URL, token: string): AuthResult {
  const fromCookie = cookieToken(request);
  if (fromCookie !== undefined && sameToken(fromCookie, token)) return 'cookie';
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null && sameToken(fromUrl, token)) return 'url';
  return 'refused';
}

export function tokenCookie(token: string): string {
  return `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
