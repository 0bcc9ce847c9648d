// Lists the inputs under a folder (images sharp can decode, and .npy tensors) in a stable order,
// with their paths relative to the folder.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

export function isNpyFile(file: string): boolean {
  return path.extname(file).toLowerCase() === '.npy';
}

/** Relative paths (with '/' separators) of the images (and, with `npy`, .npy files) under a folder, sorted. */
export async function listInputFiles(folder: string, options: { npy?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(folder, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile() && (isImageFile(e.name) || (options.npy && isNpyFile(e.name)))) out.push(child);
    }
  }
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
