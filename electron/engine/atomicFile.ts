// Writing a file so that a reader sees either the old contents or the whole new ones, never a torn
// file, even after a crash or power loss: a temporary file beside it, fsync, rename, fsync of the
// folder (where the platform allows opening one).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A temporary name beside `file`, unique to this process and moment. */
export function temporaryName(file: string): string {
  return `${file}.tmp-${process.pid}-${Date.now()}`;
}

/** Flushes a finished file to disk and moves it over `file`. */
export function commitFile(temporary: string, file: string): void {
  const fd = fs.openSync(temporary, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  syncFolder(path.dirname(file));
}

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = temporaryName(file);
  fs.writeFileSync(temporary, data);
  commitFile(temporary, file);
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a folder; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
