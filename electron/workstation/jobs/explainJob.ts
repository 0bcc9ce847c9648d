// The explain job (`vsw explain-set`): precomputes saliency maps for every image a query selects,
// with one method, into the saliency cache. Cached maps are skipped, so a resumed job continues.
import { WorkstationError } from '../datasets/importFolder';
import { selectImageIds } from '../query/buildQuery';
import { classIndex } from '../runs/runs';
import { imageFiles } from '../saliency/saliencyStore';
import type { JobContext } from './jobRunner';
import type { ExplainJobParams, JobHost } from './startJobs';

export interface ExplainResult {
  runId: number;
  method: string;
  images: number;
  computed: number;
  cached: number;
  skipped: { path: string; reason: string }[];
  /** What the user should know about how this model is explained (e.g. a mean-pooled head). */
  warnings: string[];
  seconds: number;
  /** The provider that ran the last batch, and every fallback message (also ones while running). */
  provider: string;
  providerMessages: string[];
}

export async function runExplain(
  host: JobHost,
  ctx: JobContext,
  params: ExplainJobParams,
): Promise<ExplainResult> {
  const started = performance.now();
  const runId = params.query.runId;
  if (runId === undefined)
    throw new WorkstationError(
      'explain-set needs a prediction run: give --run RUN (runId in the query)',
      'bad-params',
    );
  const model = await host.saliency.runModel(runId);
  const ids = selectImageIds(host.db, params.query);
  const files = imageFiles(host.db, ids, runId);
  const fixed =
    typeof params.target === 'object'
      ? classIndex({ id: runId, datasetId: 0, labels: model.labels, modelId: null }, params.target.label)
      : null;
  const result: ExplainResult = {
    runId,
    method: params.method,
    images: ids.length,
    computed: 0,
    cached: 0,
    skipped: [],
    warnings: model.session.info.warnings,
    seconds: 0,
    provider: model.session.provider,
    providerMessages: [],
  };
  const work: { imageId: number; absPath: string; relPath: string; target: number }[] = [];
  for (const id of ids) {
    const f = files.get(id)!;
    if (f.status === 'missing') {
      result.skipped.push({ path: f.relPath, reason: 'missing: the file was gone at the last import' });
      continue;
    }
    const target = fixed ?? (params.target === 'true' ? f.trueIdx : f.top1);
    if (target === null) {
      result.skipped.push({
        path: f.relPath,
        reason:
          params.target === 'true'
            ? 'its label is not one of the model classes'
            : 'no prediction in this run',
      });
      continue;
    }
    work.push({ imageId: id, absPath: f.absPath, relPath: f.relPath, target });
  }
  ctx.progress(0, work.length);
  // Two batches in flight: the next one's images are read and decoded while ORT runs this one.
  // An image that cannot be read or decoded any more is skipped and listed, never the job.
  type Batch = typeof work;
  let inFlight:
    { maps: ReturnType<typeof host.saliency.mapsOrFailures>; batch: Batch; end: number } | undefined;
  const finish = async (previous: NonNullable<typeof inFlight>) => {
    (await previous.maps).forEach((m, k) => {
      if ('reason' in m) result.skipped.push({ path: previous.batch[k].relPath, reason: m.reason });
      else result[m.cached ? 'cached' : 'computed']++;
    });
    ctx.progress(previous.end, work.length);
  };
  for (let start = 0; start < work.length; start += params.batch) {
    ctx.checkCancelled();
    const batch = work.slice(start, start + params.batch);
    const next = {
      maps: host.saliency.mapsOrFailures(model, batch, params.method, params.options),
      batch,
      end: start + batch.length,
    };
    next.maps.catch(() => undefined); // rethrown when awaited in turn
    if (inFlight) await finish(inFlight);
    inFlight = next;
  }
  if (inFlight) await finish(inFlight);
  result.seconds = (performance.now() - started) / 1000;
  result.provider = model.session.provider;
  result.providerMessages = model.session.providerMessages;
  return result;
}
