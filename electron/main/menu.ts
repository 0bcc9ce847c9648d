// The native menu. Review shortcuts are handled in the renderer (so they work the same in serve
// mode); the menu lists them with their accelerators and forwards a click as the same key press.
import { app, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

export function installMenu(window: BrowserWindow, onOpenFolder: () => void): void {
  const press = (key: string) => () => window.webContents.sendInputEvent({ type: 'keyDown', keyCode: key });
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        { label: 'Open Dataset Folder…', accelerator: 'CmdOrCtrl+O', click: onOpenFolder },
        { label: 'Export…', click: press('e') },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'Review',
      submenu: [
        { label: 'Next Image', accelerator: 'J', registerAccelerator: false, click: press('j') },
        { label: 'Previous Image', accelerator: 'K', registerAccelerator: false, click: press('k') },
        { label: 'Open Image', accelerator: 'Enter', registerAccelerator: false, click: press('Enter') },
        { label: 'Back to Grid', accelerator: 'Escape', registerAccelerator: false, click: press('Escape') },
        { label: 'Mark Reviewed', accelerator: 'Space', registerAccelerator: false, click: press('Space') },
        { label: 'Undo', accelerator: 'U', registerAccelerator: false, click: press('u') },
        { label: 'Filter', accelerator: '/', registerAccelerator: false, click: press('/') },
        { type: 'separator' },
        ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n): MenuItemConstructorOptions => ({
          label: `Toggle Tag ${n}`,
          accelerator: String(n),
          registerAccelerator: false,
          click: press(String(n)),
        })),
      ],
    },
    { role: 'viewMenu' },
    {
      label: 'Help',
      submenu: [
        {
          label: 'Keyboard Shortcuts',
          accelerator: 'Shift+/',
          registerAccelerator: false,
          click: press('?'),
        },
        { label: `Version ${app.getVersion()}`, enabled: false },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
