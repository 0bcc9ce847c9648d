// Electron main: thin. It creates the window, serves the renderer and dataset media over custom
// protocols, forks the service process and hands each window a MessagePort to it. Security per
// Electron's checklist: context isolation, sandbox, no Node in the renderer, strict CSP, no
// navigation or new windows, and a check of the sender on every IPC message.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  MessageChannelMain,
  net,
  protocol,
  session,
  shell,
  utilityProcess,
} from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveDataDir } from '../workstation/dataDir';
import { CONTENT_SECURITY_POLICY } from '../serve/staticFiles';
import { createMediaBridge } from './mediaBridge';
import { installMenu } from './menu';
import { loadWindowState, trackWindowState } from './windowState';

const APP_ORIGIN = 'vsw-app://app';
const rendererRoot = path.resolve(__dirname, '../../renderer');

protocol.registerSchemesAsPrivileged([
  { scheme: 'vsw-app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: 'vsw-media', privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function argValue(flag: string): string | undefined {
  const index = process.argv.indexOf(flag);
  return index > 0 ? process.argv[index + 1] : undefined;
}

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = resolveDataDir(argValue('--data-dir'));
  const service = utilityProcess.fork(path.join(__dirname, '../service/serviceProcess.js'), [], {
    env: {
      ...process.env,
      VSW_DATA_DIR: dataDir,
      VSW_OPEN: argValue('--open') ?? '',
    },
    serviceName: 'vsw-service',
  });
  const media = createMediaBridge(service);

  protocol.handle('vsw-app', (request) => {
    const url = new URL(request.url);
    const file = path.resolve(
      rendererRoot,
      '.' + decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname),
    );
    if (!file.startsWith(rendererRoot + path.sep)) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });
  protocol.handle('vsw-media', async (request) => {
    const url = new URL(request.url);
    try {
      const file = await media.resolve(url.pathname.replace(/^\/media/, ''));
      return net.fetch(pathToFileURL(file).toString());
    } catch (error) {
      return new Response((error as Error).message, { status: 403 });
    }
  });

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const saved = loadWindowState(dataDir);
  const window = new BrowserWindow({
    ...(saved?.bounds ?? { width: 1400, height: 900 }),
    title: 'ViT Saliency Workstation',
    webPreferences: {
      preload: path.join(__dirname, '../preload/preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  if (saved?.maximized) window.maximize();
  trackWindowState(window, dataDir);
  const fromOurWindow = (event: Electron.IpcMainEvent | Electron.IpcMainInvokeEvent) =>
    event.sender === window.webContents && (event.senderFrame?.url.startsWith(APP_ORIGIN) ?? false);
  const chooseFolder = async () => {
    const result = await dialog.showOpenDialog(window, {
      properties: ['openDirectory'],
      title: 'Open a dataset folder',
    });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  };
  ipcMain.handle('vsw:choose-folder', (event) => (fromOurWindow(event) ? chooseFolder() : null));
  // Opens an export's folder in the file manager: a folder only, never a file to run.
  ipcMain.handle('vsw:show-folder', async (event, folder: unknown) => {
    if (!fromOurWindow(event) || typeof folder !== 'string' || !path.isAbsolute(folder)) return false;
    if (!(await fs.promises.stat(folder).catch(() => null))?.isDirectory()) return false;
    return (await shell.openPath(folder)) === '';
  });
  installMenu(window, () => {
    void chooseFolder().then((folder) => folder && window.webContents.send('vsw:open-folder', folder));
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(APP_ORIGIN)) event.preventDefault();
  });

  ipcMain.on('vsw:request-port', (event) => {
    // Only our own window, showing our own renderer, may get a port to the service.
    if (!fromOurWindow(event)) return;
    const { port1, port2 } = new MessageChannelMain();
    service.postMessage('client', [port1]);
    event.sender.postMessage('vsw:port', null, [port2]);
  });

  await window.loadURL(`${APP_ORIGIN}/index.html`);
  app.on('window-all-closed', () => {
    service.kill();
    app.quit();
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void start();
