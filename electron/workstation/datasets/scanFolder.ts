// Walks a dataset folder recursively and yields every regular file under it, following symlinks
// that stay resolvable. Broken links and directory loops are reported as problems, never thrown.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface ScannedFile {
  absPath: string;
  relPath: string; // POSIX separators, relative to the root
}

export interface ScanProblem {
  path: string;
  reason: string;
}

export async function scanFolder(
  root: string,
  onFile: (file: ScannedFile) => void,
  onProblem: (problem: ScanProblem) => void,
): Promise<void> {
  const visited = new Set<string>();
  const realRoot = await fs.realpath(root);
  const walk = async (dir: string, rel: string): Promise<void> => {
    const real = await fs.realpath(dir);
    if (visited.has(real)) {
      onProblem({ path: rel || '.', reason: 'symlink loop: this folder was already scanned' });
      return;
    }
    visited.add(real);
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      onProblem({ path: rel || '.', reason: `folder cannot be read: ${(error as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await fs.stat(abs);
          isDir = target.isDirectory();
          isFile = target.isFile();
          const real = await fs.realpath(abs);
          if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
            onProblem({ path: childRel, reason: 'symlink points outside the dataset folder' });
            continue;
          }
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          onProblem({
            path: childRel,
            reason: code === 'ELOOP' ? 'symlink loop' : 'broken symlink (its target does not exist)',
          });
          continue;
        }
      }
      if (isDir) await walk(abs, childRel);
      else if (isFile) onFile({ absPath: abs, relPath: childRel });
      else onProblem({ path: childRel, reason: 'not a regular file (device, socket or pipe)' });
    }
  };
  await walk(root, '');
}
