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
import { isOpenFailure } from '../service/openAtStart';
import { resolveDataDir } from '../workstation/dataDir';
import { createMediaBridge } from './mediaBridge';
import { appProtocolHandler, MEDIA_SCHEME, mediaProtocolHandler } from './protocolHandlers';
import { createRestartPolicy, errorScreenHtml, restartMessage, serviceLogPath } from './serviceSupervisor';
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
  const logPath = serviceLogPath(dataDir);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  const log = fs.createWriteStream(logPath, { flags: 'a' });
  const policy = createRestartPolicy();
  let shown: BrowserWindow | null = null; // the window, once created
  let quitting = false;

  const forkService = (open: string) => {
    const child = utilityProcess.fork(path.join(__dirname, '../service/serviceProcess.js'), [], {
      env: { ...process.env, VSW_DATA_DIR: dataDir, VSW_OPEN: open },
      serviceName: 'vsw-service',
      stdio: 'pipe',
    });
    // The service's output goes to its log (named on the error screen) and to main's terminal.
    const tee = (terminal: NodeJS.WriteStream) => (chunk: Buffer) => {
      log.write(chunk);
      terminal.write(chunk);
    };
    child.stdout?.on('data', tee(process.stdout));
    child.stderr?.on('data', tee(process.stderr));
    child.on('message', (message: unknown) => {
      if (isOpenFailure(message) && shown)
        void dialog.showMessageBox(shown, {
          type: 'error',
          message: `Cannot open the folder ${message.folder}`,
          detail: message.message,
        });
    });
    child.on('exit', (code) => onServiceExit(code));
    return child;
  };
  let service = forkService(argValue('--open') ?? '');
  let media = createMediaBridge(service);

  // The service exited (a crash in native code, out of memory, killed): restart it once and say
  // so; a second exit within a minute shows an error screen that names the log instead.
  const onServiceExit = (code: number) => {
    if (quitting) return;
    log.write(`[${new Date().toISOString()}] vsw main: the service exited with code ${code}\n`);
    media.close();
    shown?.webContents.send('vsw:service-lost');
    if (policy.onExit(Date.now()) === 'give-up') {
      const page = `data:text/html;charset=utf-8,${encodeURIComponent(errorScreenHtml(code, logPath))}`;
      void shown?.loadURL(page);
      return;
    }
    service = forkService(''); // --open was done by the first one
    media = createMediaBridge(service);
    if (shown)
      void dialog.showMessageBox(shown, {
        type: 'warning',
        message: 'The workstation service was restarted',
        detail: restartMessage(code, logPath),
      });
  };

  // Electron runs no webRequest header hooks for custom protocols: these handlers set the CSP.
  const fetchFile = (fileUrl: string) => net.fetch(fileUrl);
  protocol.handle('vsw-app', appProtocolHandler(rendererRoot, fetchFile));
  protocol.handle(
    MEDIA_SCHEME,
    mediaProtocolHandler((urlPath) => media.resolve(urlPath), fetchFile),
  );

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
  shown = window;
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
    quitting = true;
    service.kill();
    app.quit();
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void start();
