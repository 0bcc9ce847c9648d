// The one gate between a media request and the disk: a path is served only when it names an
// image recorded in a registered dataset and, after resolving symlinks, still lies inside that
// dataset's root. `..`, absolute paths, encoded separators and symlinks out are all refused.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../store/openDatabase';
import { WorkstationError } from '../datasets/importFolder';

export interface DatasetFile {
  imageId: number;
  absPath: string;
  contentHash: string;
}

const refused = (why: string) => new WorkstationError(`refused: ${why}`, 'forbidden');

export async function resolveDatasetFile(db: Db, datasetId: number, relPath: string): Promise<DatasetFile> {
  if (relPath.includes('\0')) throw refused('NUL byte in path');
  if (relPath.includes('\\')) throw refused('backslash in path');
  if (path.posix.isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath)) throw refused('absolute path');
  const normalised = path.posix.normalize(relPath);
  if (
    normalised !== relPath ||
    relPath.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw refused('path is not in normal form (no "..", ".", or empty segments allowed)');
  }
  const row = db
    .prepare(
      `SELECT images.id AS id, images.content_hash AS hash, dataset_roots.path AS root FROM images
       JOIN dataset_roots ON dataset_roots.id = images.root_id
       WHERE images.dataset_id = ? AND images.rel_path = ? ORDER BY images.id LIMIT 1`,
    )
    .get(datasetId, relPath) as { id: number; hash: string; root: string } | undefined;
  if (!row) throw refused('not an image of this dataset');
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await fs.realpath(row.root);
    realFile = await fs.realpath(path.join(row.root, relPath));
  } catch {
    throw new WorkstationError(`file is missing on disk: ${relPath}`, 'not-found');
  }
  if (!realFile.startsWith(realRoot + path.sep))
    throw refused('the file resolves outside its dataset folder');
  return { imageId: row.id, absPath: realFile, contentHash: row.hash };
}
