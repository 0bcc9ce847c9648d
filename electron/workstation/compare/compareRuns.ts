// `vsw compare` and the Compare runs view: two finished runs over the same labelled images, their
// false positives on one class at matched recall, per tag and untagged (matchedRecall.ts does the
// arithmetic). Refuses what would make the numbers meaningless, saying what differs and what to do.
import { CompareParams, type CompareResult } from '../../contract/compare';
import { WorkstationError } from '../datasets/importFolder';
import { classIndex, getRun, listRuns } from '../runs/runs';
import type { Db } from '../store/openDatabase';
import { float16At } from '../store/float16';
import { compareAtMatchedRecall, type MatchInput } from './matchedRecall';

/** A comparison that would mislead: the CLI exits 2 with this message. */
export class CompareRefused extends WorkstationError {
  constructor(message: string) {
    super(message, 'refused');
    this.name = 'CompareRefused';
  }
}

interface PredictionRow {
  imageId: number;
  relPath: string;
  label: string | null;
  split: string;
  top1: number;
  trueIdx: number | null;
  probs: Buffer | null;
}

/** A run's predictions by image path: the bootstrap draws the same images whatever the import order. */
function predictionsOf(db: Db, runId: number): Map<number, PredictionRow> {
  const rows = db
    .prepare(
      `SELECT p.image_id AS imageId, i.rel_path AS relPath, i.label, i.split, p.top1, p.true_idx AS trueIdx, p.probs
       FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? ORDER BY i.rel_path, i.id`,
    )
    .all(runId) as PredictionRow[];
  return new Map(rows.map((r) => [r.imageId, r]));
}

const example = (paths: string[]) => (paths.length ? ` (e.g. ${paths[0]})` : '');

/** The runs must be finished, over the same images, with probabilities. */
function checkRuns(
  db: Db,
  datasetId: number,
  runIds: [number, number],
  rows: [Map<number, PredictionRow>, Map<number, PredictionRow>],
): void {
  const infos = listRuns(db, datasetId);
  for (const id of runIds) {
    const info = infos.find((r) => r.id === id)!;
    if (info.status !== 'done')
      throw new CompareRefused(
        `run ${id} is partial (${info.status}, ${info.predictions} predictions): finish it first — re-run the same \`vsw predict\` command or \`vsw jobs resume\` its job — then compare`,
      );
  }
  const only = (x: Map<number, PredictionRow>, y: Map<number, PredictionRow>) =>
    [...x.values()].filter((r) => !y.has(r.imageId)).map((r) => r.relPath);
  const onlyA = only(rows[0], rows[1]);
  const onlyB = only(rows[1], rows[0]);
  if (onlyA.length || onlyB.length)
    throw new CompareRefused(
      `runs ${runIds[0]} and ${runIds[1]} were not made on the same images: ${onlyA.length} image(s) have a prediction in run ${runIds[0]} only${example(onlyA)} and ${onlyB.length} in run ${runIds[1]} only${example(onlyB)}. Predict both models over the same images (the dataset as it is now) and compare those runs`,
    );
  runIds.forEach((id, k) => {
    const noProbs = [...rows[k].values()].filter((r) => !r.probs).map((r) => r.relPath);
    if (noProbs.length)
      throw new CompareRefused(
        `run ${id} has no probability vector for ${noProbs.length} image(s)${example(noProbs)} (top-1 results imported from a manifest): matching recall needs p(class) for every image; run the model with \`vsw predict\``,
      );
  });
}

/**
 * No test images beside others (pool images may be training candidates), and no image whose
 * content was exported for fine-tuning: that is training data of the fine-tuned model.
 */
function checkSplits(db: Db, compared: PredictionRow[], split: string | undefined): void {
  const test = compared.filter((r) => r.split === 'test');
  const other = compared.filter((r) => r.split !== 'test');
  if (!split && test.length && other.length)
    throw new CompareRefused(
      `the compared images mix the test split with others: ${test.length} in test${example(test.map((r) => r.relPath))} and ${other.length} in pool or validation${example(other.map((r) => r.relPath))}, which may be training data. Compare the test split alone (\`--split test\`), or move the images to one split`,
    );
  const exported = db
    .prepare(
      `SELECT DISTINCT j.id AS jobId, i.content_hash AS hash FROM export_items e
       JOIN jobs j ON j.id = e.job_id AND j.status = 'done' JOIN images i ON i.id = e.image_id`,
    )
    .all() as { jobId: number; hash: string }[];
  if (!exported.length) return;
  const jobOf = new Map(exported.map((e) => [e.hash, e.jobId]));
  const hashOf = db.prepare('SELECT content_hash FROM images WHERE id = ?').pluck();
  const trained = compared.filter((r) => jobOf.has(hashOf.get(r.imageId) as string));
  if (trained.length)
    throw new CompareRefused(
      `${trained.length} compared image(s) were exported for fine-tuning${example(trained.map((r) => r.relPath))}, export job ${jobOf.get(hashOf.get(trained[0].imageId) as string)}: they are training data, not test data. Compare on held-out images none of which were exported (or, if it never trained a model, delete that export's job with \`vsw jobs delete\`: its folder stays)`,
    );
}

export function compareRuns(db: Db, params: CompareParams): CompareResult {
  const p = CompareParams.parse(params);
  const dataset = db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(p.datasetId) as
    string | undefined;
  if (dataset === undefined) throw new WorkstationError(`no dataset with id ${p.datasetId}`, 'not-found');
  const runA = getRun(db, p.runA, p.datasetId);
  const runB = getRun(db, p.runB, p.datasetId);
  const classA = classIndex(runA, p.className);
  const classB = classIndex(runB, p.className);
  const rowsA = predictionsOf(db, runA.id);
  const rowsB = predictionsOf(db, runB.id);
  checkRuns(db, p.datasetId, [runA.id, runB.id], [rowsA, rowsB]);

  let compared = [...rowsA.values()].filter((r) => r.label !== null);
  if (!compared.length)
    throw new CompareRefused(
      `dataset "${dataset}" has no labels: false positives need each image's true class. Import it with labels (ImageFolder folders or a manifest's label column)`,
    );
  if (p.split) {
    compared = compared.filter((r) => r.split === p.split);
    if (!compared.length)
      throw new CompareRefused(
        `no labelled image of "${dataset}" is in the ${p.split} split: give the images to compare on that split first (the split column of an imported manifest), or compare all images`,
      );
  }
  checkSplits(db, compared, p.split);
  const positive = Uint8Array.from(compared, (r) => (r.trueIdx === classA ? 1 : 0));
  const positives = positive.reduce((s, x) => s + x, 0);
  if (!positives)
    throw new CompareRefused(
      `no compared image of "${dataset}"${p.split ? ` in split ${p.split}` : ''} is labelled ${p.className} (of ${compared.length} labelled): recall on it is undefined. Choose a class the images have`,
    );

  const input: MatchInput = {
    positive,
    argmaxA: Uint8Array.from(compared, (r) => (r.top1 === classA ? 1 : 0)),
    scoreA: Float64Array.from(compared, (r) => float16At(r.probs!, classA) ?? 0),
    scoreB: Float64Array.from(compared, (r) => float16At(rowsB.get(r.imageId)!.probs!, classB) ?? 0),
    groups: tagGroups(db, p.datasetId, compared),
  };
  if (p.recall === undefined && !input.argmaxA.some((x, i) => x && positive[i]))
    throw new CompareRefused(
      `run ${runA.id} never predicts ${p.className} (arg-max) for an image labelled ${p.className}: its recall, the default to match, is 0. Give the recall to match with --recall R`,
    );
  const m = compareAtMatchedRecall(input, { recall: p.recall, bootstrap: p.bootstrap, seed: p.seed });
  const models = new Map(listRuns(db, p.datasetId).map((r) => [r.id, r.modelName ?? r.name]));
  const groups = m.groups.map(({ name, ...change }) => ({ tag: name, ...change }));
  const { tag: _untagged, ...untagged } = groups.pop()!;
  return {
    dataset,
    class: p.className,
    images: compared.length,
    positives,
    split: p.split ?? null,
    matchedRecall: m.matchedRecall,
    recallFrom: p.recall === undefined ? 'argmax' : 'given',
    runs: [runA.id, runB.id].map((id, k) => ({ id, model: models.get(id) ?? `run ${id}`, ...m.runs[k] })),
    overall: m.overall,
    patterns: groups,
    untagged,
    curves: m.curves,
    bootstrap: {
      n: m.bootstrap.n,
      seed: m.bootstrap.seed,
      thresholds: 'per-resample',
      skipped: m.bootstrap.skipped,
    },
  };
}

/** One group per tag on the compared images (by name), then the images with no tag at all. */
function tagGroups(db: Db, datasetId: number, compared: PredictionRow[]): MatchInput['groups'] {
  const index = new Map(compared.map((r, i) => [r.imageId, i]));
  const rows = db
    .prepare(
      `SELECT t.name, it.image_id AS imageId FROM image_tags it JOIN tags t ON t.id = it.tag_id
       WHERE t.dataset_id = ? ORDER BY t.name, it.image_id`,
    )
    .all(datasetId) as { name: string; imageId: number }[];
  const byTag = new Map<string, number[]>();
  const tagged = new Uint8Array(compared.length);
  for (const r of rows) {
    const i = index.get(r.imageId);
    if (i === undefined) continue;
    tagged[i] = 1;
    const members = byTag.get(r.name);
    if (members) members.push(i);
    else byTag.set(r.name, [i]);
  }
  const untagged: number[] = [];
  tagged.forEach((t, i) => t || untagged.push(i));
  return [...[...byTag].map(([name, members]) => ({ name, members })), { name: '', members: untagged }];
}
