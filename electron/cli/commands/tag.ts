// `vsw tag`: add or remove tags on one image (tags named in --add are created when new).
import type { Command } from 'commander';
import { applyTag, removeTag, tagByName } from '../../workstation/tags/tagStore';
import { collect, imageByPath } from '../coreOptions';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

interface TagFlags extends DataDirFlags {
  dataset: string;
  image: string;
  add?: string[];
  remove?: string[];
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('tag')
      .description('add or remove tags on one image')
      .requiredOption('--dataset <name>', 'the dataset')
      .requiredOption('--image <path>', "the image's path, absolute or relative to the dataset folder")
      .option('--add <tag>', 'tag to add (repeatable; created if new)', collect)
      .option('--remove <tag>', 'tag to remove (repeatable)', collect),
  ).action(async (flags: TagFlags) => {
    if (!flags.add?.length && !flags.remove?.length)
      throw new UsageError('give at least one --add TAG or --remove TAG');
    const ws = openWorkstation(flags);
    try {
      const datasetId = ws.datasetByName(flags.dataset);
      const imageId = imageByPath(ws, datasetId, flags.image);
      const selection = { imageIds: [imageId] };
      for (const name of flags.add ?? []) {
        const changed = applyTag(
          ws.db,
          tagByName(ws.db, datasetId, name, ws.reviewerId, true),
          selection,
          ws.reviewerId,
        );
        console.log(`${changed ? 'added' : 'already had'} ${name}`);
      }
      for (const name of flags.remove ?? []) {
        const changed = removeTag(
          ws.db,
          tagByName(ws.db, datasetId, name, ws.reviewerId, false),
          selection,
          ws.reviewerId,
        );
        console.log(`${changed ? 'removed' : 'did not have'} ${name}`);
      }
    } finally {
      await ws.close();
    }
  });
}
