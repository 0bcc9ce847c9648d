// Serve mode's checks on where a request comes from, before the token is even looked at:
// the Host header (DNS rebinding: a hostile name that resolves to 127.0.0.1) and, on the
// WebSocket upgrade, the Origin header (a page served from another local port).
import { isIP } from 'node:net';

/** Parses a Host header value (`name:port`, `[v6]:port`) into a lower-case name and a port. */
function parseHost(value: string): { hostname: string; port: number } | null {
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(value)) return null;
  try {
    const url = new URL(`http://${value}`);
    return { hostname: url.hostname, port: Number(url.port || 80) };
  } catch {
    return null;
  }
}

const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';
const isLoopbackName = (hostname: string) =>
  hostname === 'localhost' || bare(hostname) === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/**
 * Whether a request's Host header names this server: `localhost` or the bound address, with the
 * server's port. A server bound to a wildcard address also accepts any IP literal (the machine's
 * own addresses), never a DNS name other than localhost.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  const host = hostHeader === undefined ? null : parseHost(hostHeader);
  if (!host || host.port !== port) return false;
  const name = bare(host.hostname);
  if (host.hostname === 'localhost' || name === bare(boundHost.toLowerCase())) return true;
  if (isWildcard(boundHost)) return isIP(name) !== 0;
  return isLoopbackName(boundHost.toLowerCase()) && isLoopbackName(host.hostname);
}

/**
 * Whether a WebSocket upgrade's Origin is the server's own page (`http://` + the Host it was
 * asked for). Browsers always send Origin on a WebSocket handshake; a client without one is not
 * a browser page, and still needs the token.
 */
export function originAllowed(originHeader: string | undefined, hostHeader: string | undefined): boolean {
  if (originHeader === undefined) return true;
  const host = hostHeader === undefined ? null : parseHost(hostHeader);
  if (!host) return false;
  try {
    const origin = new URL(originHeader);
    return (
      origin.protocol === 'http:' &&
      origin.hostname === host.hostname &&
      Number(origin.port || 80) === host.port &&
      originHeader === origin.origin
    );
  } catch {
    return false;
  }
}
