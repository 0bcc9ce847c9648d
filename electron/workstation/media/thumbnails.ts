// Thumbnails, made with sharp on first request and kept in a content-addressed cache under the
// data directory (keyed by the source's hash and the size), so a renamed or re-imported file
// reuses its thumbnail and a changed one gets a new one.
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { WorkstationError } from '../datasets/importFolder';

export const THUMBNAIL_SIZES = [64, 128, 256] as const;
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number];

export function thumbnailPath(cacheDir: string, contentHash: string, size: ThumbnailSize): string {
  return path.join(cacheDir, 'thumbs', contentHash.slice(0, 2), `${contentHash}-${size}.webp`);
}

const inFlight = new Map<string, Promise<string>>();

/** Returns the path of the cached thumbnail, creating it once even under concurrent requests. */
export function ensureThumbnail(
  cacheDir: string,
  source: string,
  contentHash: string,
  size: ThumbnailSize,
): Promise<string> {
  const target = thumbnailPath(cacheDir, contentHash, size);
  let pending = inFlight.get(target);
  if (!pending) {
    pending = makeThumbnail(source, target, size).finally(() => inFlight.delete(target));
    inFlight.set(target, pending);
  }
  return pending;
}

async function makeThumbnail(source: string, target: string, size: ThumbnailSize): Promise<string> {
  try {
    await fs.access(target);
    return target;
  } catch {
    // not cached yet
  }
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await sharp(source, { limitInputPixels: 100_000_000 })
      .rotate() // honour EXIF orientation
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 82 })
      .toFile(temp);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw new WorkstationError(`cannot make a thumbnail: ${(error as Error).message}`, 'bad-image');
  }
  await fs.rename(temp, target);
  return target;
}
