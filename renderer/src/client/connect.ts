// Connects the renderer to the service: a MessagePort handed over by Electron's preload, or a
// WebSocket to serve mode. Everything above this file sees only a ServiceClient.
import { createRpcClient, type MessageChannelLike, type ServiceClient } from '../../../electron/contract/rpc';

export interface Connection {
  client: ServiceClient;
  /** URL of a dataset file: its thumbnail, the original, or its mask. */
  mediaUrl(kind: 'thumb' | 'original' | 'mask', datasetId: number, relPath: string): string;
}

declare global {
  interface Window {
    vswShell?: {
      kind: 'electron';
      requestPort(): void;
      chooseFolder(): Promise<string | null>;
      showFolder(folder: string): Promise<boolean>;
      onOpenFolder(listener: (folder: string) => void): void;
    };
  }
}

function encodePath(relPath: string): string {
  return relPath.split('/').map(encodeURIComponent).join('/');
}

function electronChannel(): Promise<MessageChannelLike> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      if (event.source !== window || event.data !== 'vsw-port' || !event.ports[0]) return;
      window.removeEventListener('message', onMessage);
      const port = event.ports[0];
      resolve({
        send: (message) => port.postMessage(message),
        onMessage: (listener) => {
          port.onmessage = (e) => listener(e.data);
        },
      });
    };
    window.addEventListener('message', onMessage);
    window.vswShell?.requestPort();
  });
}

function websocketChannel(): Promise<MessageChannelLike> {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/rpc`);
    const listeners: ((message: unknown) => void)[] = [];
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as unknown;
      for (const listener of listeners) listener(message);
    };
    socket.onopen = () =>
      resolve({
        send: (message) => socket.send(JSON.stringify(message)),
        onMessage: (l) => listeners.push(l),
      });
    socket.onerror = () => reject(new Error('cannot reach the workstation service (WebSocket failed)'));
  });
}

export async function connect(): Promise<Connection> {
  if (window.vswShell?.kind === 'electron') {
    return {
      client: createRpcClient(await electronChannel()),
      mediaUrl: (kind, datasetId, relPath) => `vsw-media://media/${kind}/${datasetId}/${encodePath(relPath)}`,
    };
  }
  return {
    client: createRpcClient(await websocketChannel()),
    mediaUrl: (kind, datasetId, relPath) => `/media/${kind}/${datasetId}/${encodePath(relPath)}`,
  };
}
