// `vsw tags export|import`: move a reviewer's tags between data dirs as JSON.
import fs from 'node:fs';
import type { Command } from 'commander';
import { exportTags, importTags, readTagFile } from '../../workstation/tags/tagExchange';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

interface TagsFlags extends DataDirFlags {
  dataset: string;
  json?: boolean;
}

export function register(program: Command): void {
  const tags = program.command('tags').description('exchange tags between reviewers (JSON files)');
  addDataDirOption(
    tags
      .command('export <file>')
      .description("write the dataset's tags (each image's latest add/remove per tag) to a JSON file")
      .requiredOption('--dataset <name>', 'the dataset'),
  ).action(async (file: string, flags: TagsFlags) => {
    const ws = openWorkstation(flags);
    try {
      const data = exportTags(ws.db, ws.datasetByName(flags.dataset), ws.options.reviewer);
      fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
      console.log(`wrote ${data.events.length} tag events (${data.tags.length} tags) to ${file}`);
    } finally {
      await ws.close();
    }
  });
  addDataDirOption(
    tags
      .command('import <file>')
      .description('merge tags from another reviewer: match by content hash, union, later event wins')
      .requiredOption('--dataset <name>', 'the dataset')
      .option('--json', 'print the import report as JSON'),
  ).action(async (file: string, flags: TagsFlags) => {
    const ws = openWorkstation(flags);
    try {
      const report = importTags(ws.db, ws.datasetByName(flags.dataset), readTagFile(file));
      if (flags.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log(
        `${report.added} added, ${report.removed} removed, ${report.unchanged} unchanged; ` +
          `${report.tagsCreated.length} new tags, ${report.unmatched.length} unmatched images, ${report.conflicts.length} conflicts`,
      );
      for (const u of report.unmatched) console.log(`  unmatched ${u.path} (${u.contentHash.slice(0, 12)})`);
      for (const c of report.conflicts)
        console.log(
          `  conflict ${c.path} [${c.tag}]: added by ${c.added}, removed by ${c.removed}; kept: ${c.winner}`,
        );
    } finally {
      await ws.close();
    }
  });
}
