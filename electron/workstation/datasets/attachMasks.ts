// Masks of the region that decides an image's class: binary images matched to the dataset's images
// by relative path and recorded with them (images.mask_path), never imported as images themselves.
// A mask of `images/Bag/1.png` is found at `<masks>/images/Bag/1.png` or `<masks>/Bag/1.png`.
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import type { ImportReport } from '../../contract/protocol';
import type { Db } from '../store/openDatabase';
import { WorkstationError } from './importFolder';
import { scanFolder } from './scanFolder';

export type MaskReport = NonNullable<ImportReport['masks']>;

/** The names under which a mask of `relPath` may be stored in a mask folder. */
export function maskCandidates(relPath: string): string[] {
  const parts = relPath.split('/');
  return parts.length > 1 && parts[0] === 'images' ? [relPath, parts.slice(1).join('/')] : [relPath];
}

async function isDirectory(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}

/**
 * The mask folder that comes with an imported folder, if any: `masks/` inside it next to other
 * content (then it must not be imported as images), or `masks/` beside a folder named `images`.
 */
export async function siblingMaskFolder(root: string): Promise<{ folder: string; inside: boolean } | null> {
  const inside = path.join(root, 'masks');
  if (await isDirectory(inside)) {
    const others = (await fs.readdir(root, { withFileTypes: true })).filter((e) => e.name !== 'masks');
    if (others.length > 0) return { folder: inside, inside: true };
  }
  if (path.basename(root) === 'images' && (await isDirectory(path.join(root, '..', 'masks'))))
    return { folder: path.resolve(root, '..', 'masks'), inside: false };
  return null;
}

/** Attaches the masks of a folder to the images recorded under one dataset root. */
export async function attachMaskFolder(
  db: Db,
  rootId: number,
  masksFolder: string,
  skippedAsImages: boolean,
): Promise<MaskReport> {
  const folder = path.resolve(masksFolder);
  if (!(await isDirectory(folder)))
    throw new WorkstationError(
      `mask folder "${masksFolder}" does not exist or is not a folder; give the folder that holds the masks`,
      'not-found',
    );
  const masks = new Set<string>();
  await scanFolder(
    folder,
    (file) => masks.add(file.relPath),
    () => undefined,
  );
  const rows = db.prepare('SELECT id, rel_path FROM images WHERE root_id = ?').all(rootId) as {
    id: number;
    rel_path: string;
  }[];
  const used = new Set<string>();
  const set = db.prepare('UPDATE images SET mask_path = ? WHERE id = ?');
  db.transaction(() => {
    for (const row of rows) {
      const found = maskCandidates(row.rel_path).find((c) => masks.has(c));
      if (found === undefined) continue;
      used.add(found);
      set.run(path.join(folder, ...found.split('/')), row.id);
    }
  })();
  return { folder, attached: used.size, unmatched: masks.size - used.size, skippedAsImages };
}

/** An image's mask as 0/1 pixels scaled to fit `maxSide` (nearest neighbour), for drawing. */
export async function readMask(
  db: Db,
  imageId: number,
  maxSide: number,
): Promise<{ width: number; height: number; bits: string }> {
  const mask = db.prepare('SELECT mask_path FROM images WHERE id = ?').pluck().get(imageId) as
    string | null | undefined;
  if (mask === undefined) throw new WorkstationError(`no image with id ${imageId}`, 'not-found');
  if (mask === null) throw new WorkstationError(`image ${imageId} has no mask`, 'not-found');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(mask)
      .greyscale()
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true, kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new WorkstationError(`the mask ${mask} cannot be read: ${(error as Error).message}`, 'not-found');
  }
  const bits = Buffer.alloc(raw.info.width * raw.info.height);
  for (let i = 0; i < bits.length; i++) bits[i] = raw.data[i * raw.info.channels] > 127 ? 1 : 0;
  return { width: raw.info.width, height: raw.info.height, bits: bits.toString('base64') };
}
