// Protocol methods of "Find more like these": rank a dataset by embedding similarity to a tag's
// images or chosen images, and reject a candidate for a tag ("not this pattern").
import { z } from 'zod';
import { GridItem } from './query';

const SimilarHit = z.object({
  rank: z.number().int(),
  path: z.string(),
  imageId: z.number().int(),
  score: z.number(),
  label: z.string().nullable(),
  tags: z.array(z.string()),
});

export const similarMethods = {
  'similar.find': {
    params: z
      .object({
        datasetId: z.number().int().positive(),
        runId: z.number().int().positive(),
        /** The query: the dataset's images carrying this tag… */
        tag: z.string().min(1).nullable().default(null),
        /** …and/or these images. */
        imageIds: z.array(z.number().int().positive()).max(5000).default([]),
        /** The dataset ranked (default: the query's). */
        poolDatasetId: z.number().int().positive().optional(),
        k: z.number().int().min(1).max(5000).default(100),
        mode: z.enum(['nearest', 'mean']).default('nearest'),
      })
      .strict(),
    result: z.object({
      dataset: z.string(),
      run: z.number().int(),
      pool: z.object({ dataset: z.string(), run: z.number().int() }),
      mode: z.enum(['nearest', 'mean']),
      k: z.number().int(),
      query: z.object({ tag: z.string().nullable(), images: z.array(z.string()) }),
      results: z.array(SimilarHit),
      index: z.object({ kind: z.string(), vectors: z.number().int() }),
      ms: z.number(),
      missing: z.array(z.string()),
      /** The results as grid cells, in rank order (with the pool run's predictions). */
      items: z.array(GridItem),
    }),
  },
  /** "Not this pattern": Find similar never proposes these images for the tag again. */
  'tags.reject': {
    params: z
      .object({
        tag: z.string().min(1),
        imageIds: z.array(z.number().int().positive()).min(1).max(5000),
      })
      .strict(),
    result: z.object({ changed: z.number().int() }),
  },
} as const;
