// The leakage guard against a comparison's test set: exported images (pool negatives above all)
// that are the same file as a test image (content hash) or a near-duplicate of one (cosine of their
// embeddings ≥ a threshold, 0.98 by default). Training on them would inflate the measured gain.
import type { Db } from '../store/openDatabase';
import { embeddingSettingsOrThrow, readEmbeddingsOf, readRunEmbeddings } from '../embeddings/embeddingStore';
import { poolRunFor } from '../similar/findSimilar';
import { buildIndex, normaliseRows } from '../similar/vectorIndex';

export const DEFAULT_DUP_THRESHOLD = 0.98;

export interface ExportedImage {
  imageId: number;
  relPath: string;
  source: 'dataset' | 'pool';
  /** The run holding this image's embedding, or null when it has none. */
  runId: number | null;
}

export interface TestSetLeakage {
  dataset: string;
  run: number | null;
  threshold: number;
  /** Exported images byte-identical (same content hash) to a test image. */
  hashDuplicates: number;
  /** Exported images (not byte-identical) whose embedding is within the threshold of a test image's. */
  nearDuplicates: number;
  examples: {
    path: string;
    source: 'dataset' | 'pool';
    testPath: string;
    score: number | null;
    by: 'hash' | 'embedding';
  }[];
  /** Why the embedding check did not run, or null. */
  embeddingCheck: string | null;
}

const EXAMPLES = 10;

/** The test run: the one given, else the latest complete run on the test set of a run's model. */
function testRunFor(db: Db, testDatasetId: number, runIds: number[]): number | null {
  for (const runId of runIds) {
    try {
      return poolRunFor(db, runId, testDatasetId);
    } catch {
      // try the next run's model
    }
  }
  return null;
}

export function testSetLeakage(
  db: Db,
  embeddingsDir: string,
  exported: ExportedImage[],
  test: { datasetId: number; runId?: number },
  threshold = DEFAULT_DUP_THRESHOLD,
): TestSetLeakage {
  const dataset = db.prepare('SELECT name FROM datasets WHERE id = ?').pluck().get(test.datasetId) as string;
  const byHash = new Map(
    (
      db
        .prepare("SELECT content_hash, rel_path FROM images WHERE dataset_id = ? AND status <> 'missing'")
        .raw()
        .all(test.datasetId) as [string, string][]
    ).map(([hash, rel]) => [hash, rel]),
  );
  const hashOf = db.prepare('SELECT content_hash FROM images WHERE id = ?').pluck();
  const examples: TestSetLeakage['examples'] = [];
  const identical = new Set<number>();
  for (const image of exported) {
    const testPath = byHash.get(hashOf.get(image.imageId) as string);
    if (testPath === undefined) continue;
    identical.add(image.imageId);
    if (examples.length < EXAMPLES)
      examples.push({ path: image.relPath, source: image.source, testPath, score: null, by: 'hash' });
  }
  const runs = [...new Set(exported.map((e) => e.runId).filter((r): r is number => r !== null))];
  const testRun = test.runId ?? testRunFor(db, test.datasetId, runs);
  let embeddingCheck: string | null = null;
  let nearDuplicates = 0;
  if (testRun === null) {
    embeddingCheck = `no run of the exported images' model on "${dataset}": predict it, or give --test-run`;
  } else {
    try {
      const { dim, imageIds, vectors } = readRunEmbeddings(db, embeddingsDir, testRun);
      const index = buildIndex(normaliseRows(vectors, dim), dim);
      const testPath = db.prepare('SELECT rel_path FROM images WHERE id = ?').pluck();
      const unembedded = exported.filter((e) => e.runId === null).length;
      if (unembedded)
        embeddingCheck = `${unembedded} exported image(s) have no embedding and were not checked`;
      for (const runId of runs) {
        if (embeddingSettingsOrThrow(db, runId).dim !== dim) {
          embeddingCheck = `run ${runId}'s embeddings are not comparable with run ${testRun}'s (another width)`;
          continue;
        }
        const images = exported.filter((e) => e.runId === runId && !identical.has(e.imageId));
        const { found, vectors: mine } = readEmbeddingsOf(
          db,
          embeddingsDir,
          runId,
          images.map((e) => e.imageId),
        );
        const nearest = index.search(mine, 1);
        found.forEach((id, k) => {
          const hit = nearest[k];
          if (!hit.rows.length || hit.scores[0] < threshold) return;
          nearDuplicates++;
          const image = images.find((e) => e.imageId === id)!;
          if (examples.length < EXAMPLES)
            examples.push({
              path: image.relPath,
              source: image.source,
              testPath: testPath.get(imageIds[hit.rows[0]]) as string,
              score: Math.round(hit.scores[0] * 1e4) / 1e4,
              by: 'embedding',
            });
        });
      }
    } catch (error) {
      embeddingCheck = (error as Error).message;
    }
  }
  return {
    dataset,
    run: testRun,
    threshold,
    hashDuplicates: identical.size,
    nearDuplicates,
    examples,
    embeddingCheck,
  };
}
