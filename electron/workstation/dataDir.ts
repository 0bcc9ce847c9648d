// Where the database and caches live: --data-dir, else VSW_DATA_DIR, else the platform's
// app-data folder (the same folder Electron's userData would pick for this app).
import os from 'node:os';
import path from 'node:path';

export const APP_FOLDER = 'vit-saliency-workstation';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32')
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_FOLDER);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_FOLDER);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_FOLDER);
}

export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env.VSW_DATA_DIR ?? defaultDataDir(env));
}

export function defaultReviewer(): string {
  try {
    return os.userInfo().username || 'reviewer';
  } catch {
    return 'reviewer';
  }
}
