// Generated benchmark data: many small distinct PNGs in ten ImageFolder classes, and a large
// dataset for the UI bench written straight into a data dir.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { rootIdFor } from '../../electron/workstation/datasets/importFolder';
import { probeImage, type ProbedImage } from '../../electron/workstation/datasets/probeImage';
import { Workstation } from '../../electron/workstation/workstation';

export async function generateImages(root: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      const file = path.join(root, `class${k % 10}`, `${String(k).padStart(6, '0')}.png`);
      if (k % 1000 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
      const raw = Buffer.alloc(16 * 16);
      for (let i = 0; i < raw.length; i++) raw[i] = (k * 31 + i * 7) & 255;
      raw.writeUInt32LE(k, 0); // unique content
      await sharp(raw, { raw: { width: 16, height: 16, channels: 1 } })
        .png()
        .toFile(file);
    }
  };
  for (let c = 0; c < 10; c++) fs.mkdirSync(path.join(root, `class${c}`), { recursive: true });
  await Promise.all(Array.from({ length: 8 }, worker));
}

/**
 * A dataset of `n` images for the UI bench at scale, written straight into a data dir: `distinct`
 * real PNGs (made as above) hard-linked under n ImageFolder paths, one image row per path (probed
 * as an import records it), and a run with a top-1 prediction per image (about one in five wrong).
 * Importing a million files is the core bench's subject; here only the reviewer's side is timed.
 */
export async function seedLargeDataset(
  dataDir: string,
  scratch: string,
  n: number,
  distinct: number,
): Promise<{ root: string; runId: number }> {
  const pool = path.join(scratch, 'pool');
  const root = path.join(scratch, 'large');
  await generateImages(pool, distinct);
  const poolFiles = Array.from({ length: distinct }, (_, k) =>
    path.join(pool, `class${k % 10}`, `${String(k).padStart(6, '0')}.png`),
  );
  const probes: ProbedImage[] = [];
  for (const file of poolFiles) probes.push(await probeImage(file));
  const rel = (k: number) => `class${k % 10}/${String(k).padStart(7, '0')}.png`;
  for (let c = 0; c < 10; c++) fs.mkdirSync(path.join(root, `class${c}`), { recursive: true });
  for (let k = 0; k < n; k++) fs.linkSync(poolFiles[k % distinct], path.join(root, rel(k)));

  const workstation = new Workstation({ dataDir, reviewer: 'bench' });
  const db = workstation.db;
  const now = new Date().toISOString();
  const datasetId = Number(
    db.prepare("INSERT INTO datasets (name, created_at) VALUES ('large', ?)").run(now).lastInsertRowid,
  );
  const rootId = rootIdFor(db, datasetId, root);
  const labels = Array.from({ length: 10 }, (_, c) => `class${c}`);
  const runId = Number(
    db
      .prepare(
        `INSERT INTO runs (dataset_id, name, labels, settings, settings_key, status, created_at, finished_at)
         VALUES (?, 'bench predictions', ?, '{}', 'bench', 'done', ?, ?)`,
      )
      .run(datasetId, JSON.stringify(labels), now, now).lastInsertRowid,
  );
  const image = db.prepare(`INSERT INTO images
    (dataset_id, root_id, rel_path, content_hash, size_bytes, mtime_ms, width, height, format, label, status, added_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)`);
  const prediction = db.prepare(
    'INSERT INTO predictions (run_id, image_id, top1, score, true_idx, probs) VALUES (?, ?, ?, ?, ?, NULL)',
  );
  const CHUNK = 50_000;
  for (let start = 0; start < n; start += CHUNK) {
    db.transaction(() => {
      for (let k = start; k < Math.min(n, start + CHUNK); k++) {
        const p = probes[k % distinct];
        const truth = k % 10;
        const id = Number(
          image.run(
            datasetId,
            rootId,
            rel(k),
            p.hash,
            p.sizeBytes,
            p.mtimeMs,
            p.width,
            p.height,
            p.format,
            labels[truth],
            now,
          ).lastInsertRowid,
        );
        const wrong = (k * 2654435761) % 5 === 0;
        const top1 = wrong ? (truth + 1 + (k % 9)) % 10 : truth;
        prediction.run(runId, id, top1, 0.3 + ((k * 7919) % 7000) / 10000, truth);
      }
    })();
  }
  db.pragma('optimize');
  await workstation.close();
  return { root, runId };
}
