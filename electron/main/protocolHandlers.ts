// The handlers behind the window's two custom protocols, as plain functions of a Request (no
// Electron import, so that they can be tested under Node). Electron does not run
// webRequest.onHeadersReceived for custom protocols, so every response of these handlers carries
// the Content-Security-Policy itself, whatever its status.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy } from '../serve/staticFiles';

/** Reads a file: URL into a Response (Electron's net.fetch in the app). */
export type FetchFile = (fileUrl: string) => Promise<Response>;

export const MEDIA_SCHEME = 'vsw-media';
/** The window's policy: serve mode's, plus the media scheme for images. */
export const ELECTRON_CSP = contentSecurityPolicy([`${MEDIA_SCHEME}:`]);

export function withSecurityHeaders(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('Content-Security-Policy', ELECTRON_CSP);
  headers.set('X-Content-Type-Options', 'nosniff');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });

/** vsw-app://app/…: the built renderer, and nothing outside its folder. */
export function appProtocolHandler(rendererRoot: string, fetchFile: FetchFile) {
  return async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      let relative: string;
      try {
        relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
      } catch {
        return withSecurityHeaders(text(400, 'bad percent-encoding in the path'));
      }
      const file = path.resolve(rendererRoot, '.' + relative);
      if (!file.startsWith(rendererRoot + path.sep)) return withSecurityHeaders(text(404, 'not found'));
      return withSecurityHeaders(await fetchFile(pathToFileURL(file).toString()));
    } catch (error) {
      return withSecurityHeaders(text(404, `not found (${(error as Error).message})`));
    }
  };
}

/** vsw-media://media/<kind>/<dataset>/<path>: a dataset file, resolved (and checked) by the service. */
export function mediaProtocolHandler(resolve: (urlPath: string) => Promise<string>, fetchFile: FetchFile) {
  return async (request: Request): Promise<Response> => {
    try {
      const file = await resolve(new URL(request.url).pathname.replace(/^\/media/, ''));
      return withSecurityHeaders(await fetchFile(pathToFileURL(file).toString()));
    } catch (error) {
      return withSecurityHeaders(text(403, (error as Error).message));
    }
  };
}
