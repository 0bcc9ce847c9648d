// Remembers the window's size, position and maximised state between runs (window-state.json in
// the data dir), and ignores a saved position that no longer lies on any display.
import { screen, type BrowserWindow, type Rectangle } from 'electron';
import fs from 'node:fs';
import path from 'node:path';

interface SavedState {
  bounds: Rectangle;
  maximized: boolean;
}

export function loadWindowState(dataDir: string): SavedState | null {
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'window-state.json'), 'utf8')) as SavedState;
    const visible = screen.getAllDisplays().some((d) => {
      const a = d.workArea;
      return (
        saved.bounds.x < a.x + a.width &&
        saved.bounds.x + saved.bounds.width > a.x &&
        saved.bounds.y < a.y + a.height &&
        saved.bounds.y + saved.bounds.height > a.y
      );
    });
    return visible ? saved : { bounds: { ...saved.bounds, x: 0, y: 0 }, maximized: saved.maximized };
  } catch {
    return null;
  }
}

export function trackWindowState(window: BrowserWindow, dataDir: string): void {
  const save = () => {
    const state: SavedState = { bounds: window.getNormalBounds(), maximized: window.isMaximized() };
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'window-state.json'), JSON.stringify(state));
  };
  window.on('close', save);
}
