// Entry of the service process that Electron's main forks with utilityProcess.fork. Main sends one
// MessagePort per renderer window ('client') and one for its own media requests ('media').
// Heavy work (SQLite, sharp, ONNX Runtime) runs here, never in main.
import type { MessagePortMain, ParentPort } from 'electron';
import { serveRpc, type MessageChannelLike } from '../contract/rpc';
import { defaultReviewer } from '../workstation/dataDir';
import { resolveReviewer } from '../workstation/settings/serviceSettings';
import { Workstation } from '../workstation/workstation';
import { Broadcast } from './broadcast';
import { installCrashGuard } from './crashGuard';
import { createHandlers } from './handlers';
import { openFolderAtStart } from './openAtStart';
import { appVersion } from './version';
import { MediaRequest } from './mediaRequest';

const parentPort = (process as unknown as { parentPort: ParentPort }).parentPort;
const dataDir = process.env.VSW_DATA_DIR;

if (!dataDir) throw new Error('VSW_DATA_DIR must be set by the Electron main process');

const workstation = new Workstation({
  dataDir,
  reviewer: resolveReviewer(undefined, dataDir, defaultReviewer),
});
const broadcast = new Broadcast();
const handlers = createHandlers(workstation, 'electron', appVersion(), broadcast.emit);

installCrashGuard();

// `--open FOLDER` on the app's command line (npm start passes the demo dataset). A failure goes
// to main, which shows it to the reviewer.
if (process.env.VSW_OPEN) {
  void openFolderAtStart(workstation, process.env.VSW_OPEN, broadcast.emit, (failure) =>
    parentPort.postMessage(failure),
  );
}

function channelOf(port: MessagePortMain): MessageChannelLike {
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => port.on('message', (event) => listener(event.data)),
  };
}

parentPort.on('message', (event) => {
  const [port] = event.ports;
  if (!port) return;
  if (event.data === 'client') {
    const push = serveRpc(channelOf(port), handlers);
    const remove = broadcast.add(push);
    port.on('close', remove);
  } else if (event.data === 'media') {
    port.on('message', async ({ data }) => {
      const request = MediaRequest.safeParse(data);
      if (!request.success) return;
      const { id, kind, datasetId, relPath } = request.data;
      try {
        port.postMessage({ id, ok: true, path: await workstation.mediaFile(kind, datasetId, relPath) });
      } catch (error) {
        port.postMessage({ id, ok: false, message: (error as Error).message });
      }
    });
  }
  port.start();
});
