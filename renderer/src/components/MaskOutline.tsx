// The outline of an image's mask (the region that decides its class), drawn over the picture: the
// mask's edge pixels at the drawn size, in a colour no heatmap uses.
import { useEffect, useRef } from 'react';

interface Props {
  url: string;
  width: number;
  height: number;
}

const EDGE = [0, 255, 255, 255]; // cyan, opaque

export function MaskOutline({ url, width, height }: Props) {
  const ref = useRef<HTMLCanvasElement>(null);
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  useEffect(() => {
    let live = true;
    const image = new Image();
    image.onload = () => {
      const canvas = ref.current;
      const context = canvas?.getContext('2d', { willReadFrequently: true });
      if (!live || !canvas || !context) return;
      context.imageSmoothingEnabled = false;
      context.clearRect(0, 0, w, h);
      context.drawImage(image, 0, 0, w, h);
      const source = context.getImageData(0, 0, w, h).data;
      const inside = (x: number, y: number) =>
        x >= 0 && y >= 0 && x < w && y < h && source[(y * w + x) * 4] > 127;
      const out = context.createImageData(w, h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          if (!inside(x, y)) continue;
          if (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)) continue;
          out.data.set(EDGE, (y * w + x) * 4);
        }
      context.putImageData(out, 0, 0);
    };
    image.src = url;
    return () => {
      live = false;
    };
  }, [url, w, h]);
  return (
    <canvas ref={ref} width={w} height={h} className="mask-outline" role="img" aria-label="Mask outline" />
  );
}
