// Binds "Find more like these" to the workstation: the ranked candidates as grid cells, and
// "not this pattern" rejections (which change what the tag's next search proposes).
import type { Handlers } from '../contract/rpc';
import type { ServiceEvent } from '../contract/protocol';
import { queryPage } from '../workstation/query/queryImages';
import { findSimilar, poolRunFor, prepareRunIndex } from '../workstation/similar/findSimilar';
import { rejectForPattern } from '../workstation/tags/patternRejections';
import type { Workstation } from '../workstation/workstation';

export function similarHandlers(
  ws: Workstation,
  emit: (event: ServiceEvent) => void,
): Pick<Handlers, 'similar.find' | 'tags.reject'> {
  const db = ws.db;
  return {
    'similar.find': async (params) => {
      // A big run's graph is built in a worker first: other requests are answered meanwhile.
      const poolRunId = poolRunFor(db, params.runId, params.poolDatasetId ?? params.datasetId);
      await prepareRunIndex(db, ws.embeddingsDir, poolRunId);
      const result = findSimilar(db, ws.embeddingsDir, {
        datasetId: params.datasetId,
        runId: params.runId,
        tag: params.tag,
        imageIds: params.imageIds,
        poolDatasetId: params.poolDatasetId,
        poolRunId,
        k: params.k,
        mode: params.mode,
      });
      const ids = result.results.map((r) => r.imageId);
      const page = ids.length
        ? queryPage(
            db,
            {
              datasetId: params.poolDatasetId ?? params.datasetId,
              runId: result.pool.run,
              imageIds: ids,
              sort: { by: 'id', seed: 0 },
            },
            undefined,
            ids.length,
          )
        : { items: [] };
      const byId = new Map(page.items.map((i) => [i.id, i]));
      return { ...result, items: ids.flatMap((id) => byId.get(id) ?? []) };
    },
    'tags.reject': ({ tag, imageIds }) => {
      const changed = rejectForPattern(db, imageIds, tag, ws.reviewerId);
      const datasets = db
        .prepare('SELECT DISTINCT dataset_id FROM images WHERE id IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(JSON.stringify(imageIds)) as number[];
      for (const datasetId of datasets) emit({ type: 'imagesChanged', datasetId });
      return { changed };
    },
  };
}
