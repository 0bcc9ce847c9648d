// The per-block strip for the article's method: each block's contribution S_b as a small map on
// the block's own grid (Swin's stages differ), named by its kind, so the reviewer sees which
// blocks decide the product.
import { useEffect, useState } from 'react';
import type { Result } from '../../../electron/contract/protocol';
import { HeatmapCanvas } from '../components/HeatmapCanvas';
import { useConnection } from '../state/connection';

const KIND_NAMES = {
  'class-row': 'class-token row',
  received: 'received term',
  skipped: 'outlook attention, left out of the product',
};

export function BlockStrip({
  imageId,
  runId,
  target,
  lut,
}: {
  imageId: number;
  runId: number;
  target: string;
  lut: number[] | null;
}) {
  const { client } = useConnection();
  const [state, setState] = useState<{
    key: string;
    blocks?: Result<'saliency.blocks'>;
    error?: string;
  } | null>(null);
  const key = `${imageId}|${runId}|${target}`;
  useEffect(() => {
    let live = true;
    client
      .call('saliency.blocks', { imageId, runId, target })
      .then((blocks) => live && setState({ key, blocks }))
      .catch((e: Error) => live && setState({ key, error: e.message }));
    return () => {
      live = false;
    };
  }, [client, imageId, runId, target, key]);
  const current = state?.key === key ? state : null;
  return (
    <section className="block-strip" aria-label="Per-block contributions">
      <h3>Blocks (S_b, attn-grad-product)</h3>
      {current?.error && <p className="error">{current.error}</p>}
      <div className="strip">
        {current?.blocks &&
          lut &&
          current.blocks.blocks.map(({ kind, grid, values }, b) => (
            <figure key={b} title={`Block ${b + 1}: ${KIND_NAMES[kind]}, ${grid[0]}×${grid[1]} grid`}>
              {kind === 'skipped' ? (
                <div
                  className="skipped-block"
                  role="img"
                  aria-label={`Block ${b + 1}: outlook attention, not in the product`}
                >
                  outlook
                </div>
              ) : (
                <HeatmapCanvas
                  label={`Block ${b + 1} contribution (${kind}, ${grid[0]}×${grid[1]})`}
                  map={{ grid, values }}
                  lut={lut}
                  opacity={1}
                  width={48}
                  height={48}
                />
              )}
              <figcaption>{b + 1}</figcaption>
            </figure>
          ))}
      </div>
    </section>
  );
}
