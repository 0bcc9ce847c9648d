// The outline of an image's mask (the region that decides its class), drawn over the picture: the
// mask's edge pixels at the drawn size, in a colour no heatmap uses. The mask's pixels come from
// the service (a canvas may not read an image of another origin, as Electron's media protocol is).
import { useEffect, useRef, useState } from 'react';
import type { Result } from '../../../electron/contract/protocol';
import { useConnection } from '../state/connection';

interface Props {
  imageId: number;
  width: number;
  height: number;
}

const EDGE = [0, 255, 255, 255]; // cyan, opaque

export function MaskOutline({ imageId, width, height }: Props) {
  const { client } = useConnection();
  const ref = useRef<HTMLCanvasElement>(null);
  const [mask, setMask] = useState<{ id: number; value: Result<'images.mask'> } | null>(null);
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  useEffect(() => {
    let live = true;
    void client
      .call('images.mask', { imageId })
      .then((value) => live && setMask({ id: imageId, value }))
      .catch(() => undefined); // no outline: the image view says nothing more than that
    return () => {
      live = false;
    };
  }, [client, imageId]);
  useEffect(() => {
    const context = ref.current?.getContext('2d');
    if (!context || mask?.id !== imageId) return;
    const { width: mw, height: mh, bits } = mask.value;
    const cells = Uint8Array.from(atob(bits), (c) => c.charCodeAt(0));
    // Nearest-neighbour sample of the mask at each drawn pixel; an edge is inside with a neighbour out.
    const inside = (x: number, y: number) =>
      x >= 0 &&
      y >= 0 &&
      x < w &&
      y < h &&
      cells[Math.floor((y * mh) / h) * mw + Math.floor((x * mw) / w)] === 1;
    const out = context.createImageData(w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (!inside(x, y)) continue;
        if (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)) continue;
        out.data.set(EDGE, (y * w + x) * 4);
      }
    context.putImageData(out, 0, 0);
  }, [mask, imageId, w, h]);
  return (
    <canvas ref={ref} width={w} height={h} className="mask-outline" role="img" aria-label="Mask outline" />
  );
}
