// The Jobs panel's Resume and Delete on cancelled jobs, and the image view's warning for a model
// whose head mean-pools its tokens although it has a class token; in Chromium against serve mode.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { writeModelFile } from '../../electron/engine/onnx/modelFile';
import { browserSkipReason, openBrowser, screenshot } from '../helpers/browser';
import { writeImageFolder } from '../helpers/images';
import { testModelCard } from '../helpers/modelCards';
import { cancelJobAfter, connectRpc } from '../helpers/rpcClient';
import { startServe } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tempDir';
import { demoSubset, predictModel, vswOk } from '../integration/core/coreKit';
import { buildTinyVit } from '../unit/engine-core/graphTestKit';

const skip = browserSkipReason();
if (skip) console.log(`# skipping the job-controls browser test: ${skip}`);

test(
  'Jobs panel: a cancelled job is resumed, another deleted',
  { skip: skip ?? false, timeout: 180_000 },
  async (t) => {
    const scratch = tempDir(t, 'vsw-e2e-jobs-');
    const dataDir = path.join(scratch, 'data');
    const imported = JSON.parse(
      vswOk('import', demoSubset(scratch, 30), '--dataset', 'demo', '--json', '--data-dir', dataDir),
    ) as { dataset: { id: number } };
    const server = await startServe(t, dataDir);
    const rpc = await connectRpc(server);
    t.after(() => rpc.close());
    const { jobId, runId } = await rpc.call<{ jobId: number; runId: number }>('jobs.predict', {
      datasetId: imported.dataset.id,
      model: predictModel(scratch).dir,
      batch: 8,
      provider: 'cpu',
    });
    await cancelJobAfter(rpc, jobId, 16);

    const browser = await openBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    const panel = page.getByRole('region', { name: 'Jobs' });
    // A cancelled job stays in the drawer; the resumed one, once done, shows with "Show finished".
    await panel.getByRole('checkbox', { name: 'Show finished' }).check();
    const predictRow = panel
      .locator('.job')
      .filter({ has: page.getByRole('progressbar', { name: `predict job ${jobId}` }) });
    await predictRow.getByText('cancelled').waitFor();
    await screenshot(page, 'jobs-panel-cancelled');
    await predictRow.getByRole('button', { name: 'Resume' }).click();
    await predictRow.getByText('done').waitFor({ timeout: 120_000 });
    assert.equal(await predictRow.getByRole('button', { name: 'Resume' }).count(), 0);

    const explain = await rpc.call<{ jobId: number }>('jobs.explain', {
      query: { datasetId: imported.dataset.id, runId },
      method: 'attn-grad-product',
      batch: 8,
    });
    await cancelJobAfter(rpc, explain.jobId, 8);
    const explainRow = panel
      .locator('.job')
      .filter({ has: page.getByRole('progressbar', { name: `explain job ${explain.jobId}` }) });
    await explainRow.getByText('cancelled').waitFor();
    await screenshot(page, 'jobs-panel-resumed-and-cancelled');
    await explainRow.getByRole('button', { name: 'Delete' }).click();
    await explainRow.waitFor({ state: 'detached' });
    await rpc.waitForEvent((e) => e.type === 'job.deleted' && e.jobId === explain.jobId);
    const jobs = await rpc.call<{ id: number }[]>('jobs.list', {});
    assert.deepEqual(
      jobs.map((j) => j.id),
      [jobId],
    );
    await screenshot(page, 'jobs-panel-deleted');
  },
);

test(
  'image view: a class-token model whose head mean-pools is explained with a warning',
  { skip: skip ?? false, timeout: 120_000 },
  async (t) => {
    const scratch = tempDir(t, 'vsw-e2e-meanpool-');
    const modelDir = path.join(scratch, 'mean-pool-vit');
    writeModelFile(buildTinyVit({ head: 'mean-pool' }), path.join(modelDir, 'model.onnx'));
    const card = testModelCard({
      name: 'mean-pool',
      labels: ['cat', 'dog', 'other'],
      channels: 1,
      side: 8,
      prefix: 1,
      grid: [2, 2],
    });
    fs.writeFileSync(
      path.join(modelDir, 'model.json'),
      JSON.stringify({ ...card, input: { ...card.input, name: 'x' } }),
    );
    const images = path.join(scratch, 'images');
    await writeImageFolder(images);
    const dataDir = path.join(scratch, 'data');
    vswOk('import', images, '--dataset', 'pets', '--data-dir', dataDir);
    vswOk('predict', '--dataset', 'pets', '--model', modelDir, '--provider', 'cpu', '--data-dir', dataDir);

    const server = await startServe(t, dataDir);
    const browser = await openBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.getByRole('tab', { name: 'Review' }).click();
    const cells = page.getByRole('grid', { name: 'Images' }).getByRole('gridcell');
    await cells.first().click();
    await page.keyboard.press('Enter');
    const warning = page.getByRole('note').filter({ hasText: 'head averages the tokens' });
    await warning.waitFor({ timeout: 60_000 });
    await page.getByRole('img', { name: 'Heatmap', exact: true }).waitFor();
    await screenshot(page, 'image-view-mean-pool-warning');
  },
);
