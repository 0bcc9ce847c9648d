// `vsw import`: add a folder of images to a dataset from the command line.
import type { Command } from 'commander';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';
import { withProgressBar } from '../progressBar';

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('import <source>')
      .description('import a folder of images (recursive; ImageFolder labels from parent folders)')
      .option('--dataset <name>', 'dataset to add it to (default: the folder name)')
      .option('--json', 'print the import report as JSON'),
  ).action(async (source: string, flags: DataDirFlags & { dataset?: string; json?: boolean }) => {
    const workstation = openWorkstation(flags);
    try {
      const { dataset, report } = await withProgressBar('import', (progress) =>
        workstation.addDataset(source, flags.dataset, progress),
      );
      if (flags.json) {
        console.log(JSON.stringify({ dataset, report }, null, 2));
        return;
      }
      console.log(
        `${dataset.name}: ${report.added} added, ${report.changed} changed, ${report.unchanged} unchanged, ` +
          `${report.missing} missing, ${report.skipped.length} skipped (${report.seconds.toFixed(1)} s)`,
      );
      for (const problem of report.skipped) console.log(`  skipped ${problem.path}: ${problem.reason}`);
    } finally {
      workstation.close();
    }
  });
}
