// Workstation-core benchmark on generated data (heavy; run by `npm run bench`, never by the tests):
// importing 100,000 small images, a filtered sorted page at 1,000,000 predictions, thumbnails per
// second, and tagging a 10,000-image selection. Prints one JSON object with the numbers.
// Scale with VSW_BENCH_IMAGES and VSW_BENCH_PREDICTIONS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImageQuery } from '../../electron/contract/query';
import { ensureThumbnail } from '../../electron/workstation/media/thumbnails';
import { queryPage } from '../../electron/workstation/query/queryImages';
import { encodeFloat16 } from '../../electron/workstation/store/float16';
import { applyTag, createTag } from '../../electron/workstation/tags/tagStore';
import { Workstation } from '../../electron/workstation/workstation';
import { generateImages } from './benchData';

const IMAGES = Number(process.env.VSW_BENCH_IMAGES ?? 100_000);
const PREDICTIONS = Number(process.env.VSW_BENCH_PREDICTIONS ?? 1_000_000);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vsw-core-bench-'));
  const results: Record<string, unknown> = {
    images: IMAGES,
    predictions: PREDICTIONS,
    cpus: os.cpus().length,
  };
  try {
    const root = path.join(scratch, 'images');
    let t = performance.now();
    await generateImages(root, IMAGES);
    results.generateSeconds = (performance.now() - t) / 1000;

    const ws = new Workstation({ dataDir: path.join(scratch, 'data'), reviewer: 'bench' });
    t = performance.now();
    const { dataset, report } = await ws.addDataset(root, 'bench');
    results.importSeconds = (performance.now() - t) / 1000;
    results.imported = report.added;

    // Thumbnails of 2,000 small images, cold cache.
    const files = ws.db
      .prepare('SELECT rel_path, content_hash FROM images WHERE dataset_id = ? LIMIT 2000')
      .all(dataset.id) as { rel_path: string; content_hash: string }[];
    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < files.length) {
          const f = files[next++];
          await ensureThumbnail(ws.cacheDir, path.join(root, f.rel_path), f.content_hash, 128);
        }
      }),
    );
    results.thumbnailsPerSecond = files.length / ((performance.now() - t) / 1000);

    // 1,000,000 predictions: synthetic image rows plus a run over 10 classes.
    const big = ws.db
      .prepare("INSERT INTO datasets (name, created_at) VALUES ('big', 'now')")
      .run().lastInsertRowid;
    ws.db.prepare("INSERT INTO dataset_roots (dataset_id, path) VALUES (?, '/nonexistent')").run(big);
    const rootId = ws.db
      .prepare('SELECT id FROM dataset_roots WHERE dataset_id = ?')
      .pluck()
      .get(big) as number;
    const labels = Array.from({ length: 10 }, (_, c) => `class${c}`);
    const runId = ws.db
      .prepare(
        "INSERT INTO runs (dataset_id, name, labels, settings, settings_key, status, created_at) VALUES (?, 'bench', ?, '{}', 'bench', 'done', 'now')",
      )
      .run(big, JSON.stringify(labels)).lastInsertRowid;
    const insertImage = ws.db.prepare(
      `INSERT INTO images (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, label, added_at)
       VALUES (?, ?, ?, ?, 100, 0, 16, 16, 'png', ?, 'now')`,
    );
    const insertPrediction = ws.db.prepare(
      'INSERT INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (?, ?, ?, ?, ?, ?)',
    );
    t = performance.now();
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let start = 0; start < PREDICTIONS; start += 50_000) {
      ws.db.transaction(() => {
        for (let k = start; k < Math.min(start + 50_000, PREDICTIONS); k++) {
          const truth = k % 10;
          const probs = Array.from({ length: 10 }, () => rand());
          const sum = probs.reduce((a, b) => a + b, 0);
          const p = probs.map((v) => v / sum);
          let top = 0;
          for (let c = 1; c < 10; c++) if (p[c] > p[top]) top = c;
          const id = insertImage.run(
            big,
            rootId,
            `c${truth}/${k}.png`,
            `hash${k}`,
            labels[truth],
          ).lastInsertRowid;
          insertPrediction.run(runId, id, top, p[top], truth, encodeFloat16(p));
        }
      })();
    }
    ws.db.exec('ANALYZE');
    results.fillSeconds = (performance.now() - t) / 1000;
    const queries: Record<string, ImageQuery> = {
      fpByScore: ImageQuery.parse({
        datasetId: Number(big),
        runId: Number(runId),
        errors: { kind: 'fp', class: 'class3', threshold: 0.15 },
        sort: { by: 'score' },
      }),
      allByScore: ImageQuery.parse({ datasetId: Number(big), runId: Number(runId), sort: { by: 'score' } }),
      predClassByPath: ImageQuery.parse({
        datasetId: Number(big),
        runId: Number(runId),
        predClass: 'class5',
        score: { min: 0.2 },
        sort: { by: 'path' },
      }),
    };
    const pageMs: Record<string, { first: number; second: number }> = {};
    for (const [name, query] of Object.entries(queries)) {
      const firsts: number[] = [];
      const seconds: number[] = [];
      for (let i = 0; i < 15; i++) {
        let s = performance.now();
        const page = queryPage(ws.db, query, undefined, 200);
        firsts.push(performance.now() - s);
        s = performance.now();
        queryPage(ws.db, query, page.nextCursor ?? undefined, 200);
        seconds.push(performance.now() - s);
      }
      pageMs[name] = { first: median(firsts), second: median(seconds) };
    }
    results.pageQueryMs = pageMs;

    const tag = createTag(ws.db, Number(big), ws.reviewerId, { name: 'bench' });
    const ids = ws.db
      .prepare('SELECT id FROM images WHERE dataset_id = ? LIMIT 10000')
      .pluck()
      .all(big) as number[];
    t = performance.now();
    applyTag(ws.db, tag.id, { imageIds: ids }, ws.reviewerId);
    results.tag10kMs = performance.now() - t;
    await ws.close();
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(JSON.stringify(results, null, 2));
}

void main();
