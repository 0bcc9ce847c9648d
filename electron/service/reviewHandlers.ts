// Binds the reviewer UI's own methods (reviewMethods.ts): per-block contributions and
// faithfulness of one image's maps, the colour-map tables, bundled models, service settings.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../contract/rpc';
import { colormapTable, COLORMAP_NAMES } from '../engine/heatmap';
import { loadModel } from '../engine/modelCard';
import { WorkstationError } from '../workstation/datasets/importFolder';
import { blockContributions, evaluateImage } from '../workstation/saliency/imageInsights';
import { regionChecks, runRegionCheck } from '../workstation/saliency/regionChecks';
import { imageFiles } from '../workstation/saliency/saliencyStore';
import { readSettings, writeSettings } from '../workstation/settings/serviceSettings';
import type { Workstation } from '../workstation/workstation';

type ReviewMethod =
  | 'saliency.blocks'
  | 'evaluate.image'
  | 'region.check'
  | 'region.list'
  | 'models.leaderboard'
  | 'heatmap.colormaps'
  | 'models.bundled'
  | 'settings.get'
  | 'settings.set';

/** Where the shipped models live: resources/models in a packaged app, models/ in a checkout. */
export function bundledModelsDir(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    packaged && path.join(packaged, 'models'),
    path.resolve(__dirname, '../../../models'),
    path.resolve(__dirname, '../../models'),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c)) ?? path.resolve('models');
}

export function reviewHandlers(ws: Workstation): Pick<Handlers, ReviewMethod> {
  const fileOf = (imageId: number, runId: number) => {
    const file = imageFiles(ws.db, [imageId], runId).get(imageId);
    if (!file) throw new WorkstationError(`no image with id ${imageId}`, 'not-found');
    return file;
  };
  const initial = readSettings(ws.options.dataDir);
  void ws.saliency.setProvider(initial.provider, initial.cudaDevice, initial.precision);
  const settings = () => {
    const saved = readSettings(ws.options.dataDir);
    return {
      reviewer: saved.reviewer ?? ws.options.reviewer,
      provider: saved.provider,
      cudaDevice: saved.cudaDevice,
      precision: saved.precision,
      lastProvider: ws.saliency.lastProvider ?? null,
      providerMessages: ws.saliency.providerMessages ?? [],
    };
  };
  return {
    'saliency.blocks': async ({ imageId, runId, target }) => {
      const file = fileOf(imageId, runId);
      return blockContributions(await ws.saliency.runModel(runId), file.absPath, target, file.top1);
    },
    'evaluate.image': async ({ imageId, runId, target, methods }) => {
      const file = fileOf(imageId, runId);
      return evaluateImage(await ws.saliency.runModel(runId), file.absPath, target, file.top1, methods);
    },
    'region.check': async ({ imageId, runId, target, method, options }) =>
      runRegionCheck(ws.saliency, ws.db, {
        imageId,
        runId,
        method,
        options,
        target,
        reviewerId: ws.reviewerId,
      }),
    'region.list': ({ imageId }) => regionChecks(ws.db, imageId),
    'models.leaderboard': async ({ runId, model }) => {
      let file: string;
      if (runId !== undefined) file = (await ws.saliency.runModel(runId)).modelPath;
      else {
        const loaded = await loadModel(model!).catch((e: Error) => {
          throw new WorkstationError(e.message, 'bad-params');
        });
        file = loaded.modelPath;
      }
      const { board, method, reason } = ws.saliency.modelDefault(file);
      const folder = path.dirname(file);
      return {
        name: path.basename(folder),
        path: folder,
        leaderboard: board,
        defaultMethod: method,
        reason,
      };
    },
    'heatmap.colormaps': () => {
      const tables = Object.fromEntries(
        COLORMAP_NAMES.map((name) => [name, Array.from(colormapTable(name))]),
      );
      return tables as Record<(typeof COLORMAP_NAMES)[number], number[]>;
    },
    'models.bundled': () => {
      const dir = bundledModelsDir();
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'model.onnx')))
        .map((e) => {
          let description = '';
          try {
            description = String(
              (
                JSON.parse(fs.readFileSync(path.join(dir, e.name, 'model.json'), 'utf8')) as {
                  description?: string;
                }
              ).description ?? '',
            );
          } catch {
            // a model without a readable card is still listed
          }
          return { name: e.name, path: path.join(dir, e.name), description };
        });
    },
    'settings.get': () => settings(),
    'settings.set': async ({ reviewer, provider, cudaDevice, precision }) => {
      const saved = readSettings(ws.options.dataDir);
      const next = {
        ...saved,
        ...(reviewer ? { reviewer } : {}),
        ...(provider ? { provider } : {}),
        ...(cudaDevice !== undefined ? { cudaDevice } : {}),
        ...(precision ? { precision } : {}),
      };
      writeSettings(ws.options.dataDir, next);
      if (reviewer) ws.setReviewer(reviewer);
      if (provider || cudaDevice !== undefined || precision)
        await ws.saliency.setProvider(next.provider, next.cudaDevice, next.precision);
      return settings();
    },
  };
}
