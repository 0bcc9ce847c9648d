// Connects the renderer to the service: a MessagePort handed over by Electron's preload, or a
// WebSocket to serve mode. Everything above this file sees only a ServiceClient.
import type { MessageChannelLike, ServiceClient } from '../../../electron/contract/rpc';
import { reconnectingClient, type ConnectionState } from './reconnectingClient';

export interface Connection {
  client: ServiceClient;
  /** Whether the service is reachable; the epoch grows with every reconnection. */
  state(): ConnectionState;
  onState(listener: (state: ConnectionState) => void): () => void;
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
        // Main tells the window when the service process exits (the port itself stays silent).
        onClose: (listener) => {
          const onLost = (e: MessageEvent) => {
            if (e.source !== window || e.data !== 'vsw-service-lost') return;
            window.removeEventListener('message', onLost);
            port.close();
            listener();
          };
          window.addEventListener('message', onLost);
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
    const closeListeners: (() => void)[] = [];
    socket.onmessage = (event) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return; // not ours to answer; the client ignores what it cannot read
      }
      for (const listener of listeners) listener(message);
    };
    socket.onopen = () =>
      resolve({
        send: (message) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
        },
        onMessage: (l) => listeners.push(l),
        onClose: (l) => closeListeners.push(l),
      });
    socket.onerror = () => reject(new Error('cannot reach the workstation service (WebSocket failed)'));
    socket.onclose = () => {
      for (const listener of closeListeners) listener();
    };
  });
}

export async function connect(): Promise<Connection> {
  const electron = window.vswShell?.kind === 'electron';
  const service = await reconnectingClient(electron ? electronChannel : websocketChannel);
  return {
    client: service.client,
    state: service.state,
    onState: service.onState,
    mediaUrl: electron
      ? (kind, datasetId, relPath) => `vsw-media://media/${kind}/${datasetId}/${encodePath(relPath)}`
      : (kind, datasetId, relPath) => `/media/${kind}/${datasetId}/${encodePath(relPath)}`,
  };
}
