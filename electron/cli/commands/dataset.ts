// `vsw dataset relocate`: re-root a dataset whose folder moved, keeping every tag and prediction.
import type { Command } from 'commander';
import { relocateDataset } from '../../workstation/datasets/relocateDataset';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

export function register(program: Command): void {
  const dataset = program.command('dataset').description('manage datasets');
  addDataDirOption(
    dataset
      .command('relocate')
      .description('point a dataset at the folder it moved to (tags, notes and predictions are kept)')
      .requiredOption('--dataset <name>', 'the dataset')
      .requiredOption('--from <old>', 'the folder it was imported from')
      .requiredOption('--to <new>', 'the folder it is in now'),
  ).action(async (flags: DataDirFlags & { dataset: string; from: string; to: string }) => {
    const ws = openWorkstation(flags);
    try {
      const r = relocateDataset(ws.db, ws.datasetByName(flags.dataset), flags.from, flags.to);
      console.log(`roots now: ${r.roots.join(', ')}; ${r.found} images found, ${r.missing} missing`);
    } finally {
      await ws.close();
    }
  });
}
