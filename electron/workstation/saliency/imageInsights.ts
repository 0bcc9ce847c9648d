// What the image view asks of one image beyond its map: each block's contribution S_b for the
// article's method, and the faithfulness (deletion / insertion AUC) of every method's map.
import { evaluateFaithfulness } from '../../engine/evaluate';
import { attnGradProductFromRows, MAP_METHODS, type MapMethod } from '../../engine/methods';
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

/** Per block b, S_b = mean over heads of A_b ⊙ G_b on the class-token row over the patches, normalised. */
export async function blockContributions(
  model: RunModel,
  absPath: string,
  label: string | undefined,
  top1: number | null,
) {
  const target = targetIndex(model, label, top1);
  const { tensor } = await preprocessImage(absPath, model.card.preprocessing, model.card.input);
  const { perImage } = await model.session.explain(tensor, 1, [target]);
  const { prefixTokens, grid } = model.session.info;
  const rows = perImage[0].map((block) => {
    const { heads, tokens } = block;
    const attention = new Float32Array(heads * tokens);
    const gradient = new Float32Array(heads * tokens);
    for (let h = 0; h < heads; h++) {
      // the class token's row (query 0) of each head
      attention.set(block.attention.subarray(h * tokens * tokens, h * tokens * tokens + tokens), h * tokens);
      gradient.set(block.gradient!.subarray(h * tokens * tokens, h * tokens * tokens + tokens), h * tokens);
    }
    return { heads, tokens, attention, gradient };
  });
  // The product over the single block [b, b] is S_b shifted and min-max normalised.
  const blocks = rows.map((_, b) =>
    Array.from(attnGradProductFromRows(rows, prefixTokens, { blocks: [b, b] })),
  );
  return { target: model.labels[target], grid, blocks };
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
