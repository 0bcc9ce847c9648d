// Options several commands share, and the helpers that read them.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultReviewer, resolveDataDir } from '../workstation/dataDir';
import { resolveReviewer } from '../workstation/settings/serviceSettings';
import { Workstation } from '../workstation/workstation';

export function addDataDirOption(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--data-dir <dir>',
        'where the database and caches live (default: $VSW_DATA_DIR or the app-data folder)',
      ),
    )
    .addOption(
      new Option('--reviewer <name>', 'the reviewer recorded on tag events (default: the OS user name)'),
    );
}

export interface DataDirFlags {
  dataDir?: string;
  reviewer?: string;
}

export function openWorkstation(flags: DataDirFlags): Workstation {
  const dataDir = resolveDataDir(flags.dataDir);
  return new Workstation({ dataDir, reviewer: resolveReviewer(flags.reviewer, dataDir, defaultReviewer) });
}

export function parseInteger(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}
