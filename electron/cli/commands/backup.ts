// `vsw backup`: an online copy of the database (SQLite's backup API), safe while serve runs.
import type { Command } from 'commander';
import { backupDatabase } from '../../workstation/store/backupDatabase';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('backup')
      .description('copy the database to a file while it is in use (SQLite backup API)')
      .requiredOption('--out <file>', 'the backup file to write (must not exist)'),
  ).action(async (flags: DataDirFlags & { out: string }) => {
    const ws = openWorkstation(flags);
    try {
      const r = await backupDatabase(ws.db, flags.out);
      console.log(`backed up to ${r.file} (${r.bytes} bytes)`);
    } finally {
      await ws.close();
    }
  });
}
