// Jobs through a real `vsw serve` and real `vsw` processes on one data dir: cancel of a running
// predict, explain-set and export stops within one batch and the job is resumed or deleted from the
// RPC side (what the UI calls) and from the CLI; SIGKILL of the server mid-predict and mid-export
// and a restart continue the jobs by themselves with no duplicate rows; the CLI tagging and
// predicting while the server tags over RPC loses no event and never meets "database is locked".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cancelJobAfter, connectRpc, isJobEvent, type RpcClient } from '../helpers/rpcClient';
import { startServe, type ServeProcess } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';
import {
  demoSubset,
  integrityOk,
  predictDemoArgs,
  peek,
  predictModel,
  sleep,
  VSW,
  vswOk,
  waitFor,
} from './core/coreKit';

function count(dataDir: string, sql: string, ...params: unknown[]): number {
  const db = peek(dataDir);
  try {
    return db
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  } finally {
    db.close();
  }
}

interface Fixture {
  scratch: string;
  dataDir: string;
  datasetId: number;
  images: number;
  model: string;
}

const PER_CLASS = 40; // 400 images: each job runs for a few seconds on two cores

function importSubset(t: TestContext, perClass = PER_CLASS): Fixture {
  const scratch = tempDir(t, 'vsw-serve-jobs-');
  const dataDir = path.join(scratch, 'data');
  const root = demoSubset(scratch, perClass);
  const report = JSON.parse(vswOk('import', root, '--dataset', 'demo', '--json', '--data-dir', dataDir)) as {
    dataset: { id: number };
    report: { added: number };
  };
  return {
    scratch,
    dataDir,
    datasetId: report.dataset.id,
    images: report.report.added,
    model: predictModel(scratch).dir,
  };
}

async function tagAll(rpc: RpcClient, datasetId: number, name: string): Promise<number> {
  const tag = await rpc.call<{ id: number }>('tags.create', { datasetId, name });
  await rpc.call('tags.apply', { tagId: tag.id, selection: { query: { datasetId } } });
  return tag.id;
}

test('cancel of a running predict, explain-set and export stops within one batch; resume and delete over RPC and from the CLI', async (t) => {
  const f = importSubset(t);
  const server = await startServe(t, f.dataDir);
  const rpc = await connectRpc(server);
  t.after(() => rpc.close());
  const predictions = () => count(f.dataDir, 'SELECT COUNT(*) FROM predictions');

  // Predict: cancel, then resume over RPC.
  const BATCH = 8;
  const { jobId: predictJob, runId } = await rpc.call<{ jobId: number; runId: number }>('jobs.predict', {
    datasetId: f.datasetId,
    model: f.model,
    batch: BATCH,
    provider: 'cpu',
  });
  const atCancel = await cancelJobAfter(rpc, predictJob, 2 * BATCH, predictions);
  const afterCancel = predictions();
  assert.ok(afterCancel < f.images, 'cancelled before the end');
  assert.ok(afterCancel - atCancel <= BATCH, `${afterCancel - atCancel} predictions after the cancel`);
  await rpc.call('jobs.resume', { jobId: predictJob });
  await rpc.waitForEvent(isJobEvent(predictJob, 'job.finished'));
  assert.equal(predictions(), f.images);
  assert.equal(count(f.dataDir, 'SELECT COUNT(DISTINCT image_id) FROM predictions'), f.images);

  // Explain-set: cancel over RPC, delete from the CLI while the server runs.
  const maps = () => count(f.dataDir, 'SELECT COUNT(*) FROM saliency_cache');
  const { jobId: explainJob } = await rpc.call<{ jobId: number }>('jobs.explain', {
    query: { datasetId: f.datasetId, runId },
    method: 'attn-grad-product',
    batch: BATCH,
  });
  const mapsAtCancel = await cancelJobAfter(rpc, explainJob, 2 * BATCH, maps);
  assert.ok(maps() < f.images && maps() - mapsAtCancel <= BATCH, `${maps() - mapsAtCancel} maps after`);
  assert.match(vswOk('jobs', 'delete', String(explainJob), '--data-dir', f.dataDir), /deleted job/);
  const listed = await rpc.call<{ id: number }[]>('jobs.list', {});
  assert.ok(!listed.some((j) => j.id === explainJob), 'the deleted job is gone for the UI too');

  // Export with overlays (slow enough to cancel mid-way): cancel over RPC, resume from the CLI.
  await tagAll(rpc, f.datasetId, 'neg');
  const out = path.join(f.scratch, 'export');
  const exportParams = {
    query: { datasetId: f.datasetId, runId },
    tags: ['neg'],
    layout: 'imagefolder',
    media: 'copy',
    overlays: 'attn-grad-product',
    out,
  };
  const { jobId: exportJob } = await rpc.call<{ jobId: number }>('jobs.export', exportParams);
  const doneItems = () => count(f.dataDir, 'SELECT COUNT(*) FROM export_items WHERE done = 1');
  const itemsAtCancel = await cancelJobAfter(rpc, exportJob, 32, doneItems);
  assert.ok(doneItems() < f.images && doneItems() - itemsAtCancel <= 32, `${doneItems()} items done`);
  assert.ok(!fs.existsSync(out));
  const resumed = JSON.parse(
    vswOk('jobs', 'resume', String(exportJob), '--json', '--data-dir', f.dataDir),
  ) as { images: number; files: number };
  assert.equal(resumed.images, f.images);
  assert.equal(fs.readdirSync(path.join(out, 'neg')).length, 2 * f.images, 'every image and its overlay');

  // A cancelled export deleted over RPC takes its partial folder with it.
  const out2 = path.join(f.scratch, 'export2');
  const { jobId: second } = await rpc.call<{ jobId: number }>('jobs.export', { ...exportParams, out: out2 });
  await cancelJobAfter(rpc, second, 32, doneItems);
  assert.equal(fs.readdirSync(f.scratch).filter((n) => n.includes('vsw-partial')).length, 1);
  await rpc.call('jobs.delete', { jobId: second });
  await rpc.waitForEvent((e) => e.type === 'job.deleted' && e.jobId === second);
  assert.equal(fs.readdirSync(f.scratch).filter((n) => n.includes('vsw-partial')).length, 0);
  assert.equal(count(f.dataDir, 'SELECT COUNT(*) FROM export_items WHERE job_id = ?', second), 0);
  await assert.rejects(rpc.call('jobs.delete', { jobId: predictJob + 1000 }), /no job with id/);
  integrityOk(f.dataDir);
});

async function killHard(server: ServeProcess): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

test('SIGKILL of vsw serve mid-predict and mid-export: a restart resumes both by itself, no duplicate rows', async (t) => {
  const f = importSubset(t);
  let server = await startServe(t, f.dataDir);
  let rpc = await connectRpc(server);
  const { jobId: predictJob, runId } = await rpc.call<{ jobId: number; runId: number }>('jobs.predict', {
    datasetId: f.datasetId,
    model: f.model,
    batch: 8,
    provider: 'cpu',
  });
  const predictions = () => count(f.dataDir, 'SELECT COUNT(*) FROM predictions');
  await waitFor(() => predictions() >= 40, 60_000, 'the first predictions');
  rpc.close();
  await killHard(server);
  const killedAt = predictions();
  assert.ok(killedAt < f.images, `killed mid-predict (${killedAt} of ${f.images})`);
  integrityOk(f.dataDir);

  server = await startServe(t, f.dataDir); // resumes the job on its own; no client needed
  const jobStatus = (id: number) =>
    count(f.dataDir, "SELECT status = 'done' FROM jobs WHERE id = ?", id) === 1;
  await waitFor(() => jobStatus(predictJob), 120_000, 'the predict job to finish after the restart');
  assert.equal(predictions(), f.images);
  assert.equal(count(f.dataDir, 'SELECT COUNT(DISTINCT image_id) FROM predictions'), f.images);
  assert.equal(count(f.dataDir, 'SELECT COUNT(*) FROM runs'), 1);
  assert.equal(count(f.dataDir, "SELECT COUNT(*) FROM jobs WHERE kind = 'predict'"), 1);

  rpc = await connectRpc(server);
  await tagAll(rpc, f.datasetId, 'neg');
  const out = path.join(f.scratch, 'export');
  const { jobId: exportJob } = await rpc.call<{ jobId: number }>('jobs.export', {
    query: { datasetId: f.datasetId, runId },
    tags: ['neg'],
    layout: 'imagefolder',
    manifests: ['csv'],
    media: 'copy',
    overlays: 'attn-grad-product',
    out,
  });
  const doneItems = () => count(f.dataDir, 'SELECT COUNT(*) FROM export_items WHERE done = 1');
  await waitFor(() => doneItems() >= 32, 60_000, 'the first exported images');
  rpc.close();
  await killHard(server);
  assert.ok(doneItems() < f.images, `killed mid-export (${doneItems()} of ${f.images})`);
  assert.ok(!fs.existsSync(out));
  integrityOk(f.dataDir);

  await startServe(t, f.dataDir);
  await waitFor(() => jobStatus(exportJob), 120_000, 'the export job to finish after the restart');
  assert.equal(fs.readdirSync(path.join(out, 'neg')).length, 2 * f.images, 'every image and its overlay');
  assert.equal(
    fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n').length,
    1 + f.images,
  );
  assert.equal(fs.readdirSync(f.scratch).filter((n) => n.includes('vsw-partial')).length, 0);
  assert.equal(count(f.dataDir, "SELECT COUNT(*) FROM jobs WHERE kind = 'export'"), 1);
  assert.equal(count(f.dataDir, 'SELECT COUNT(*) FROM export_items'), f.images);
  integrityOk(f.dataDir);
  t.diagnostic(`kills survived: 2 (predict at ${killedAt}/${f.images}); rows lost: 0`);
});

function runVsw(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [VSW, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

test('vsw tag and vsw predict from the CLI while serve tags over RPC on the same data dir: every event kept, never locked', async (t) => {
  const f = importSubset(t);
  const server = await startServe(t, f.dataDir);
  const rpc = await connectRpc(server);
  t.after(() => rpc.close());
  const db = peek(f.dataDir);
  const rels = db.prepare('SELECT id, rel_path FROM images ORDER BY id LIMIT 200').all() as {
    id: number;
    rel_path: string;
  }[];
  db.close();
  const serveTag = await rpc.call<{ id: number }>('tags.create', { datasetId: f.datasetId, name: 'from-ui' });

  // The CLI: a predict of the whole dataset, and one `vsw tag` process after another.
  const predict = runVsw(predictDemoArgs(f.dataDir, f.model, 8));
  const cliTagged: string[] = [];
  const cliRuns: { code: number | null; stderr: string }[] = [];
  const cli = (async () => {
    for (const { rel_path } of rels.slice(0, 12)) {
      cliRuns.push(
        await runVsw([
          'tag',
          '--dataset',
          'demo',
          '--image',
          rel_path,
          '--add',
          'from-cli',
          '--data-dir',
          f.dataDir,
        ]),
      );
      cliTagged.push(rel_path);
    }
  })();
  // The server, for as long as the CLI writes: rounds over the images, each tagged and every
  // third one untagged again, one request each (as a reviewer's clicks arrive).
  let cliDone = false;
  void Promise.all([predict, cli]).then(() => (cliDone = true));
  let rounds = 0;
  let serveAdds = 0;
  let serveRemoves = 0;
  const ui = (async () => {
    while (!cliDone || rounds === 0) {
      for (const [k, { id }] of rels.entries()) {
        const selection = { imageIds: [id] };
        const added = await rpc.call<{ changed: number }>('tags.apply', { tagId: serveTag.id, selection });
        serveAdds += added.changed;
        if (k % 3 === 0) {
          const removed = await rpc.call<{ changed: number }>('tags.remove', {
            tagId: serveTag.id,
            selection,
          });
          serveRemoves += removed.changed;
        }
        await sleep(2);
      }
      rounds++;
    }
  })();
  const [predicted] = await Promise.all([predict, cli, ui]);
  const serveEvents = serveAdds + serveRemoves;

  const everything = [predicted, ...cliRuns];
  for (const r of everything) {
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /database is locked|SQLITE_BUSY/);
  }
  const removals = Math.ceil(rels.length / 3);
  // Round one adds every image; each later round re-adds only the ones the round before removed.
  assert.equal(serveAdds, rels.length + (rounds - 1) * removals);
  assert.equal(serveRemoves, rounds * removals);
  const events = (action: string, tag: string) =>
    count(
      f.dataDir,
      'SELECT COUNT(*) FROM tag_events e JOIN tags t ON t.id = e.tag_id WHERE t.name = ? AND e.action = ?',
      tag,
      action,
    );
  assert.equal(events('add', 'from-ui'), serveAdds);
  assert.equal(events('remove', 'from-ui'), serveRemoves);
  assert.equal(events('add', 'from-cli'), cliTagged.length);
  const applied = (tag: string) =>
    count(
      f.dataDir,
      'SELECT COUNT(*) FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE t.name = ?',
      tag,
    );
  assert.equal(applied('from-ui'), rels.length - removals);
  assert.equal(applied('from-cli'), cliTagged.length);
  assert.equal(count(f.dataDir, 'SELECT COUNT(*) FROM predictions'), f.images);
  integrityOk(f.dataDir);
  const writes = serveEvents + cliTagged.length + f.images;
  t.diagnostic(
    `concurrent writes: ${serveEvents} RPC tag events in ${rounds} round(s), ${cliTagged.length} CLI tag events, ${f.images} predictions (${writes}); locked errors: 0`,
  );
});

test('vsw jobs cancel stops a predict that another vsw process runs within one batch; vsw jobs resume finishes it', async (t) => {
  const f = importSubset(t);
  const BATCH = 8;
  const running = runVsw(predictDemoArgs(f.dataDir, f.model, BATCH));
  const predictions = () => count(f.dataDir, 'SELECT COUNT(*) FROM predictions');
  await waitFor(() => predictions() >= 2 * BATCH, 60_000, 'the first predictions');
  const jobId = count(f.dataDir, "SELECT id FROM jobs WHERE kind = 'predict'");
  assert.match(
    vswOk('jobs', 'cancel', String(jobId), '--data-dir', f.dataDir),
    /will stop at its next checkpoint/,
  );
  const atCancel = predictions();
  const stopped = await running;
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /cancelled/);
  assert.ok(predictions() - atCancel <= BATCH, `${predictions() - atCancel} predictions after the cancel`);
  assert.ok(predictions() < f.images);
  const listed = JSON.parse(vswOk('jobs', 'list', '--json', '--data-dir', f.dataDir)) as {
    id: number;
    status: string;
  }[];
  assert.deepEqual(
    listed.map((j) => [j.id, j.status]),
    [[jobId, 'cancelled']],
  );
  const resumed = JSON.parse(vswOk('jobs', 'resume', String(jobId), '--json', '--data-dir', f.dataDir)) as {
    predicted: number;
  };
  assert.equal(resumed.predicted, f.images);
  assert.equal(count(f.dataDir, 'SELECT COUNT(DISTINCT image_id) FROM predictions'), f.images);
  assert.equal(count(f.dataDir, 'SELECT status FROM jobs WHERE id = ?', jobId) as unknown, 'done');
});
