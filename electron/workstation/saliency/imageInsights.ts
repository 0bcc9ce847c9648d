// What the image view asks of one image beyond its map: each block's contribution S_b for the
// article's method, and the faithfulness (deletion / insertion AUC) of every method's map.
import { evaluateFaithfulness } from '../../engine/evaluate';
import { MAP_METHODS, mapFromTerms, type MapMethod } from '../../engine/methods';
import { preprocessImage } from '../../engine/preprocess';
import { WorkstationError } from '../datasets/importFolder';
import type { RunModel } from './saliencyStore';

function targetIndex(model: RunModel, label: string | undefined, top1: number | null): number {
  if (label === undefined) {
    if (top1 === null)
      throw new WorkstationError(
        'this image has no prediction in the run; run the model first',
        'bad-params',
      );
    return top1;
  }
  const index = model.labels.indexOf(label);
  if (index < 0)
    throw new WorkstationError(
      `"${label}" is not a class of this run's model (${model.labels.join(', ')})`,
      'bad-params',
    );
  return index;
}

/**
 * Per block b its term S_b (METHOD.md) on the block's own grid, with its kind, shifted and min-max
 * normalised for display: the single-block product [b, b].
 */
export async function blockContributions(
  model: RunModel,
  absPath: string,
  label: string | undefined,
  top1: number | null,
) {
  const target = targetIndex(model, label, top1);
  const { tensor } = await preprocessImage(absPath, model.card.preprocessing, model.card.input);
  const { perImage } = await model.session.terms(tensor, 1, [target]);
  const blocks = perImage[0].map((block) => ({
    kind: block.kind,
    grid: block.grid,
    values: block.term ? Array.from(mapFromTerms('attn-grad-product', [block], block.grid)) : [],
  }));
  return { target: model.labels[target], grid: model.session.info.grid, blocks };
}

/** Deletion and insertion AUCs of each method's map of one class for one image (and a random map as the floor). */
export async function evaluateImage(
  model: RunModel,
  absPath: string,
  label: string | undefined,
  top1: number | null,
  methods: MapMethod[] = [...MAP_METHODS],
) {
  const target = targetIndex(model, label, top1);
  const report = await evaluateFaithfulness(
    model.session,
    [
      {
        id: absPath,
        target,
        load: async () => ({
          tensor: (await preprocessImage(absPath, model.card.preprocessing, model.card.input)).tensor,
        }),
      },
    ],
    { methods, baseline: 'mean', steps: 32, batch: 33, seed: 1 },
  );
  const image = report.perImage[0];
  const results = [...methods, 'random' as const].map((method) => ({
    method,
    deletion: image.deletion[method] ?? NaN,
    insertion: image.insertion[method] ?? NaN,
  }));
  return { target: model.labels[image.target] ?? String(image.target), results };
}
