// The message Electron's main sends the service to turn a media URL into a file on disk.
import { z } from 'zod';

export const MediaRequest = z.object({
  id: z.number().int(),
  kind: z.enum(['original', 'thumb', 'mask']),
  datasetId: z.number().int().positive(),
  relPath: z.string(),
});
export type MediaRequest = z.infer<typeof MediaRequest>;

/** Parses `/<kind>/<datasetId>/<relPath…>`, the media URL path both shells use. */
export function parseMediaPath(urlPath: string): Omit<MediaRequest, 'id'> | null {
  const match = /^\/(original|thumb|mask)\/(\d+)\/(.+)$/.exec(urlPath);
  if (!match) return null;
  let relPath: string;
  try {
    relPath = match[3].split('/').map(decodeURIComponent).join('/');
  } catch {
    return null;
  }
  return { kind: match[1] as 'original' | 'thumb' | 'mask', datasetId: Number(match[2]), relPath };
}
