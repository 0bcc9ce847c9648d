// An online copy of the database with SQLite's backup API: consistent while other processes
// (a running service, another command) keep using it.
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../datasets/importFolder';
import type { Db } from './openDatabase';

export async function backupDatabase(db: Db, outFile: string): Promise<{ file: string; bytes: number }> {
  const file = path.resolve(outFile);
  if (fs.existsSync(file))
    throw new WorkstationError(`${outFile} already exists; choose another file`, 'exists');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.partial`;
  fs.rmSync(temp, { force: true });
  await db.backup(temp);
  fs.renameSync(temp, file);
  return { file, bytes: fs.statSync(file).size };
}
