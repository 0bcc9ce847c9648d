// Binds the workstation core's methods (issue 5: query, tags, review, stats, runs, saliency, jobs)
// to the workstation, and pushes change events after writes.
import type { Handlers } from '../contract/rpc';
import type { MethodName, ServiceEvent } from '../contract/protocol';
import type { Selection } from '../contract/query';
import { compareRuns } from '../workstation/compare/compareRuns';
import { readMask } from '../workstation/datasets/attachMasks';
import { relocateDataset } from '../workstation/datasets/relocateDataset';
import { deleteJob, resumeJob, startExplain, startExport, startPredict } from '../workstation/jobs/startJobs';
import { gridItem, queryFacets, queryPage, queryTagFacets } from '../workstation/query/queryImages';
import { listAudit, undoLatest } from '../workstation/review/auditLog';
import { datasetOfSelection, setNote, setReview, setSplit } from '../workstation/review/imageReview';
import { deleteRun, listRuns } from '../workstation/runs/runs';
import { deleteRunEmbeddings } from '../workstation/similar/findSimilar';
import { imageDetail, saliencyFor } from '../workstation/saliency/imageSaliency';
import { computeStats } from '../workstation/stats/stats';
import {
  applyTag,
  createTag,
  deleteTag,
  getTag,
  listTags,
  mergeTags,
  removeTag,
  updateTag,
} from '../workstation/tags/tagStore';
import type { Workstation } from '../workstation/workstation';

type CoreMethod =
  | 'datasets.relocate'
  | 'images.query'
  | 'images.facets'
  | 'images.tagFacets'
  | 'images.get'
  | 'images.mask'
  | 'images.setNote'
  | 'images.setReview'
  | 'images.setSplit'
  | 'tags.list'
  | 'tags.create'
  | 'tags.update'
  | 'tags.merge'
  | 'tags.delete'
  | 'tags.apply'
  | 'tags.remove'
  | 'audit.list'
  | 'audit.undo'
  | 'runs.list'
  | 'runs.delete'
  | 'stats.get'
  | 'compare.runs'
  | 'saliency.get'
  | 'jobs.predict'
  | 'jobs.explain'
  | 'jobs.export'
  | 'jobs.list'
  | 'jobs.cancel'
  | 'jobs.resume'
  | 'jobs.delete';

export function coreHandlers(
  ws: Workstation,
  emit: (event: ServiceEvent) => void,
): Pick<Handlers, CoreMethod & MethodName> {
  const db = ws.db;
  const tagsChanged = (datasetId: number) => emit({ type: 'tagsChanged', datasetId });
  const imagesChanged = (datasetId: number) => emit({ type: 'imagesChanged', datasetId });
  const ofSelection = (selection: Selection) => datasetOfSelection(db, selection);
  /** A job's promise settles in the background; its outcome travels as job events. */
  const background = <T extends { done: Promise<unknown> }>(started: T): T => {
    started.done.catch(() => undefined);
    return started;
  };
  /** A predict job's run changes status when it ends, however it ends. */
  const runsChangeWhenDone = <T extends { done: Promise<unknown> }>(started: T, datasetId: number): T => {
    const changed = () => emit({ type: 'runsChanged', datasetId });
    void started.done.then(changed, changed);
    return started;
  };
  return {
    'datasets.relocate': ({ datasetId, from, to }) => {
      const result = relocateDataset(db, datasetId, from, to);
      emit({ type: 'datasetsChanged' });
      return result;
    },
    'images.query': ({ query, after, limit }) => queryPage(db, query, after, limit),
    'images.facets': ({ query }) => queryFacets(db, query),
    'images.tagFacets': ({ query }) => queryTagFacets(db, query),
    'images.get': ({ imageId, runId }) => imageDetail(db, imageId, runId),
    'images.mask': ({ imageId, maxSide }) => readMask(db, imageId, maxSide),
    'images.setNote': ({ imageId, note }) => {
      const changed = setNote(db, imageId, note, ws.reviewerId);
      imagesChanged(gridItem(db, imageId).datasetId);
      return { changed };
    },
    'images.setReview': ({ selection, reviewed, verdict }) => {
      const changed = setReview(db, selection, { reviewed, verdict }, ws.reviewerId);
      imagesChanged(ofSelection(selection));
      return { changed };
    },
    'images.setSplit': ({ selection, split }) => {
      const changed = setSplit(db, selection, split, ws.reviewerId);
      imagesChanged(ofSelection(selection));
      return { changed };
    },
    'tags.list': ({ datasetId }) => listTags(db, datasetId),
    'tags.create': ({ datasetId, ...fields }) => {
      const tag = createTag(db, datasetId, ws.reviewerId, fields);
      tagsChanged(datasetId);
      return tag;
    },
    'tags.update': ({ tagId, ...fields }) => {
      const tag = updateTag(db, tagId, ws.reviewerId, fields);
      tagsChanged(tag.datasetId);
      return tag;
    },
    'tags.merge': ({ sourceTagId, targetTagId }) => {
      const tag = mergeTags(db, sourceTagId, targetTagId, ws.reviewerId);
      tagsChanged(tag.datasetId);
      return tag;
    },
    'tags.delete': ({ tagId }) => {
      const datasetId = getTag(db, tagId).dataset_id;
      const changed = deleteTag(db, tagId, ws.reviewerId);
      tagsChanged(datasetId);
      return { changed };
    },
    'tags.apply': ({ tagId, selection }) => {
      const changed = applyTag(db, tagId, selection, ws.reviewerId);
      tagsChanged(getTag(db, tagId).dataset_id);
      return { changed };
    },
    'tags.remove': ({ tagId, selection }) => {
      const changed = removeTag(db, tagId, selection, ws.reviewerId);
      tagsChanged(getTag(db, tagId).dataset_id);
      return { changed };
    },
    'audit.list': ({ datasetId, limit }) => listAudit(db, datasetId, limit),
    'audit.undo': ({ datasetId }) => {
      const undone = undoLatest(db, datasetId, ws.reviewerId);
      if (undone) {
        tagsChanged(datasetId);
        imagesChanged(datasetId);
      }
      return { undone };
    },
    'runs.list': ({ datasetId }) => listRuns(db, datasetId),
    'runs.delete': ({ runId }) => {
      const { datasetId, changed } = deleteRun(db, runId);
      deleteRunEmbeddings(ws.embeddingsDir, runId);
      emit({ type: 'runsChanged', datasetId });
      return { changed };
    },
    'stats.get': ({ query }) => computeStats(db, query),
    'compare.runs': (params) => compareRuns(db, params),
    'saliency.get': (params) => saliencyFor(ws.saliency, db, params),
    'jobs.predict': async (params) => {
      const started = runsChangeWhenDone(
        background(await startPredict(ws.jobHost, params)),
        params.datasetId,
      );
      return { jobId: started.jobId, runId: started.runId };
    },
    'jobs.explain': (params) => ({ jobId: background(startExplain(ws.jobHost, params)).jobId }),
    'jobs.export': (params) => ({ jobId: background(startExport(ws.jobHost, params)).jobId }),
    'jobs.list': () => ws.jobs.list(),
    'jobs.cancel': ({ jobId }) => ({ changed: ws.jobs.cancel(jobId) }),
    'jobs.resume': async ({ jobId }) => {
      const job = ws.jobs.get(jobId);
      const started = background(await resumeJob(ws.jobHost, jobId));
      if (job.kind === 'predict')
        runsChangeWhenDone(started, (job.params as { datasetId: number }).datasetId);
      return { jobId: started.jobId };
    },
    'jobs.delete': async ({ jobId }) => {
      await deleteJob(ws.jobHost, jobId);
      emit({ type: 'job.deleted', jobId });
      return { changed: 1 };
    },
  };
}
