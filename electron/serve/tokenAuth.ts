// Serve mode's access check: the token from the printed URL, exchanged once for an HttpOnly,
// SameSite=Strict cookie so that assets, images, the WebSocket and reloads carry it. Browsers send
// a cookie to every port of a host, so the cookie's name holds the port: two servers on one
// machine never read each other's.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Tokens shorter than this draw a warning at start. */
export const MIN_TOKEN_LENGTH = 16;

export function cookieName(port: number): string {
  return `vsw_token_${port}`;
}

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function cookieToken(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export type AuthResult = 'cookie' | 'url' | 'refused';

/** How the request proved it holds the token: by cookie, by `?token=` in the URL, or not at all. */
export function authenticate(request: IncomingMessage, url: URL, token: string, port: number): AuthResult {
  const fromCookie = cookieToken(request, cookieName(port));
  if (fromCookie !== undefined && sameToken(fromCookie, token)) return 'cookie';
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null && sameToken(fromUrl, token)) return 'url';
  return 'refused';
}

export function tokenCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Refuses an empty token (it would let anyone in); returns a warning for a short one. */
export function checkToken(token: string): { error?: string; warning?: string } {
  if (token.trim() === '') return { error: '--token must not be empty; leave it out to get a random one.' };
  if (token.length < MIN_TOKEN_LENGTH)
    return {
      warning: `warning: the --token is ${token.length} characters long; one of ${MIN_TOKEN_LENGTH} or more (or the random default) is much harder to guess`,
    };
  return {};
}
