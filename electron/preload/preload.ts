// The only bridge between the sandboxed renderer and Electron: a flag saying we are in Electron,
// and a way to ask for a MessagePort to the service, which arrives as a window message.
import { contextBridge, ipcRenderer } from 'electron';

ipcRenderer.on('vsw:port', (event) => {
  window.postMessage('vsw-port', window.location.origin, event.ports);
});

// Main says the service process exited; the renderer fails pending calls and asks for a new port.
ipcRenderer.on('vsw:service-lost', () => {
  window.postMessage('vsw-service-lost', window.location.origin);
});

contextBridge.exposeInMainWorld('vswShell', {
  kind: 'electron',
  requestPort: () => ipcRenderer.send('vsw:request-port'),
  /** The native folder dialog; resolves to the chosen folder or null. */
  chooseFolder: (): Promise<string | null> => ipcRenderer.invoke('vsw:choose-folder'),
  /** Opens a folder (an export's destination) in the file manager. */
  showFolder: (folder: string): Promise<boolean> => ipcRenderer.invoke('vsw:show-folder', folder),
  /** File → Open Dataset Folder… in the native menu. */
  onOpenFolder: (listener: (folder: string) => void) => {
    ipcRenderer.on('vsw:open-folder', (_event, folder: string) => listener(folder));
  },
});
