// `vsw tag`: add or remove tags on one image (tags named in --add are created when new).
import type { Command } from 'commander';
import { rejectForPattern } from '../../workstation/tags/patternRejections';
import { applyTag, removeTag, tagByName } from '../../workstation/tags/tagStore';
import { collect, imageByPath } from '../coreOptions';
import { UsageError } from '../errors';
import { addDataDirOption, openWorkstation, type DataDirFlags } from '../options';

interface TagFlags extends DataDirFlags {
  dataset: string;
  image: string;
  add?: string[];
  remove?: string[];
  reject?: string[];
}

export function register(program: Command): void {
  addDataDirOption(
    program
      .command('tag')
      .description('add or remove tags on one image, or reject it for a tag ("not this pattern")')
      .requiredOption('--dataset <name>', 'the dataset')
      .requiredOption('--image <path>', "the image's path, absolute or relative to the dataset folder")
      .option('--add <tag>', 'tag to add (repeatable; created if new)', collect)
      .option('--remove <tag>', 'tag to remove (repeatable)', collect)
      .option(
        '--reject <tag>',
        '"not this pattern": `vsw similar` never proposes the image for this tag again (repeatable)',
        collect,
      ),
  ).action(async (flags: TagFlags) => {
    if (!flags.add?.length && !flags.remove?.length && !flags.reject?.length)
      throw new UsageError('give at least one --add TAG, --remove TAG or --reject TAG');
    const both = (flags.add ?? []).filter((t) => flags.reject?.includes(t));
    if (both.length) throw new UsageError(`--add and --reject name the same tag: ${both.join(', ')}`);
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
      for (const name of flags.reject ?? []) {
        const changed = rejectForPattern(ws.db, [imageId], name, ws.reviewerId);
        console.log(`${changed ? 'rejected' : 'already rejected'} for ${name}`);
      }
    } finally {
      await ws.close();
    }
  });
}
