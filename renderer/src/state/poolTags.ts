// Tags belong to a dataset: confirming a Find-similar candidate of another dataset (a pool) tags it
// with the pool's tag of the same name, made on the first confirmation with the reviewed tag's colour.
import type { TagInfo } from '../../../electron/contract/protocol';
import type { ServiceClient } from '../../../electron/contract/rpc';

/** The pool's tag named like `tag`, created (same name and colour, no hotkey) when it has none. */
export async function poolTagFor(
  client: ServiceClient,
  poolDatasetId: number,
  tag: TagInfo,
  known: readonly TagInfo[],
): Promise<TagInfo> {
  const found =
    known.find((t) => t.name === tag.name) ??
    (await client.call('tags.list', { datasetId: poolDatasetId })).find((t) => t.name === tag.name);
  return (
    found ?? client.call('tags.create', { datasetId: poolDatasetId, name: tag.name, colour: tag.colour })
  );
}
