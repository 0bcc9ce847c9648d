// Asks the service process which file a vsw-media:// URL names (it alone knows the datasets and
// does the containment checks), over a MessagePort of its own.
import { MessageChannelMain, type UtilityProcess } from 'electron';
import { parseMediaPath } from '../service/mediaRequest';

export function createMediaBridge(service: UtilityProcess) {
  const { port1, port2 } = new MessageChannelMain();
  service.postMessage('media', [port2]);
  let nextId = 1;
  let closed = false;
  const waiting = new Map<number, { resolve: (path: string) => void; reject: (e: Error) => void }>();
  port1.on('message', ({ data }) => {
    const reply = data as { id: number; ok: boolean; path?: string; message?: string };
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    if (reply.ok && reply.path) waiter.resolve(reply.path);
    else waiter.reject(new Error(reply.message ?? 'refused'));
  });
  port1.start();
  return {
    /** The service is gone: every waiting request fails, later ones too. */
    close(): void {
      closed = true;
      for (const waiter of waiting.values())
        waiter.reject(new Error('the workstation service is restarting'));
      waiting.clear();
      port1.close();
    },
    resolve(urlPath: string): Promise<string> {
      if (closed) return Promise.reject(new Error('the workstation service is not running'));
      const request = parseMediaPath(urlPath);
      if (!request) return Promise.reject(new Error('bad media path'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        port1.postMessage({ id, ...request });
      });
    },
  };
}
