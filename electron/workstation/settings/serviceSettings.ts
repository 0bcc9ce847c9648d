// Settings the service keeps for the reviewer across restarts (settings.json in the data dir):
// the reviewer's name, the preferred execution provider, the CUDA device and the saliency graphs'
// compute precision. Written atomically.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const SettingsFile = z.object({
  reviewer: z.string().min(1).optional(),
  provider: z.enum(['auto', 'cuda', 'webgpu', 'cpu']).default('auto'),
  cudaDevice: z.number().int().min(0).default(0),
  /** Compute precision of the saliency graphs: float16 is for GPUs (README: GPU). */
  precision: z.enum(['float32', 'float16']).default('float32'),
});
export type SettingsFile = z.infer<typeof SettingsFile>;

export function settingsPath(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

export function readSettings(dataDir: string): SettingsFile {
  try {
    return SettingsFile.parse(JSON.parse(fs.readFileSync(settingsPath(dataDir), 'utf8')));
  } catch {
    return SettingsFile.parse({}); // missing or unreadable: defaults (the file is rewritten on the next save)
  }
}

export function writeSettings(dataDir: string, settings: SettingsFile): void {
  const file = settingsPath(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(settings, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

/** --reviewer, else the name saved in Settings, else the OS user name. */
export function resolveReviewer(flag: string | undefined, dataDir: string, osUser: () => string): string {
  return flag ?? readSettings(dataDir).reviewer ?? osUser();
}
