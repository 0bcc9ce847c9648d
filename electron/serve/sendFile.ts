// Streams one file as an HTTP response without ever letting a file-system fault escape: the file
// is opened and checked before the status line is written, so a path that is missing, a folder,
// or unreadable answers 404/403, and a read error mid-stream only ends that one response.
import fs from 'node:fs';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';

const STATUS_OF_CODE: Record<string, number> = {
  ENOENT: 404,
  ENOTDIR: 404,
  EISDIR: 404,
  ELOOP: 404,
  ENAMETOOLONG: 404,
  ERR_INVALID_ARG_VALUE: 400, // a NUL byte in the path
  EACCES: 403,
  EPERM: 403,
};

// Non-blocking, so that a FIFO planted where a file was expected cannot hang the open (the
// stat below then refuses it); for a regular file the flag changes nothing.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export function sendText(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}

export async function sendFile(
  response: ServerResponse,
  file: string,
  headers: OutgoingHttpHeaders,
  method = 'GET',
): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    sendText(response, STATUS_OF_CODE[code] ?? 500, `cannot read the file (${code || 'error'})`);
    return;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      sendText(response, 404, 'not a file');
      return;
    }
    response.writeHead(200, { ...headers, 'Content-Length': stat.size });
  } catch (error) {
    await handle.close().catch(() => undefined);
    sendText(response, 500, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return;
  }
  if (method === 'HEAD') {
    await handle.close();
    response.end();
    return;
  }
  // pipeline destroys both ends on an error; the client sees a cut-off body, the server goes on.
  pipeline(handle.createReadStream(), response, () => undefined);
}
