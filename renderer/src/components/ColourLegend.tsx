// The heatmap's colour scale: the colour map as a bar from 0 to 1 (each map is min-max normalised
// per image, so 1 is this image's most salient patch), with the method and the class it explains.
import { useMemo } from 'react';

interface Props {
  lut: number[]; // 256 × RGB
  method: string;
  target: string | null;
}

export function ColourLegend({ lut, method, target }: Props) {
  const gradient = useMemo(() => {
    const stops: string[] = [];
    for (let i = 0; i <= 16; i++) {
      const k = Math.min(255, i * 16) * 3;
      stops.push(`rgb(${lut[k]}, ${lut[k + 1]}, ${lut[k + 2]}) ${(i / 16) * 100}%`);
    }
    return `linear-gradient(to right, ${stops.join(', ')})`;
  }, [lut]);
  return (
    <figure className="colour-legend" role="group" aria-label="Colour scale">
      <figcaption>
        {method}
        {target ? ` · explains “${target}”` : ''}
      </figcaption>
      <div className="legend-bar" style={{ background: gradient }} />
      <div className="legend-ticks" aria-hidden="true">
        <span>0 · least</span>
        <span>0.5</span>
        <span>1 · most salient in this image</span>
      </div>
    </figure>
  );
}
