// `vsw import`: add a folder of images, or a CSV/JSONL manifest (path,label[,prediction,score]),
// to a dataset from the command line.
import type { Command } from 'commander';
import { WorkstationError } from '../../workstation/datasets/importFolder';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';
import { withProgressBar } from '../progressBar';
import { describeMasks } from '../../contract/protocol';

interface ImportFlags extends DataDirFlags {
  dataset?: string;
  json?: boolean;
  mapping?: string;
  masks?: string;
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('import <source>')
      .description(
        'import a folder of images (recursive; ImageFolder labels from parent folders) or a CSV/JSONL manifest ' +
          '(path,label[,prediction,score][,split][,mask])',
      )
      .option('--dataset <name>', 'dataset to add it to (default: the folder or manifest name)')
      .option(
        '--mapping <file>',
        'label mapping to the model\'s labels: JSON {"folder label": "model label"} or CSV from,to',
      )
      .option(
        '--masks <folder>',
        'masks of the deciding region, matched to the images by relative path (shown in the image view, ' +
          'used by `vsw evaluate`); a masks/ folder beside the images is found without it',
      )
      .option('--json', 'print the import report as JSON'),
  ).action(async (source: string, flags: ImportFlags) => {
    const workstation = openWorkstation(flags);
    try {
      const result = await withProgressBar('import', (progress) =>
        workstation.addDataset(source, flags.dataset, progress, flags.mapping, flags.masks),
      ).catch((error: unknown) => {
        // Nothing to import is the user's mistake (exit 2), not a failure of the tool.
        if (error instanceof WorkstationError && error.code === 'no-images')
          throw new UsageError(error.message);
        throw error;
      });
      const { dataset, report } = result;
      if (flags.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      console.log(
        `${dataset.name}: ${report.added} added, ${report.changed} changed, ${report.unchanged} unchanged, ` +
          `${report.missing} missing, ${report.skipped.length} skipped (${report.seconds.toFixed(1)} s)`,
      );
      for (const problem of report.skipped) console.log(`  skipped ${problem.path}: ${problem.reason}`);
      if (report.masks) console.log(`  ${describeMasks(report.masks)}`);
      if (result.runId) console.log(`imported predictions as run ${result.runId}`);
      if (result.unmappedLabels?.length)
        console.log(`  labels not among the predicted classes: ${result.unmappedLabels.join(', ')}`);
    } finally {
      await workstation.close();
    }
  });
}
