// The colour maps' lookup tables, fetched once from the service (the engine owns the tables).
import { useEffect, useState } from 'react';
import type { ColourMap } from './settings';
import { useConnection } from './connection';

let cache: Promise<Record<ColourMap, number[]>> | null = null;

export function useColourMaps(): Record<ColourMap, number[]> | null {
  const { client } = useConnection();
  const [maps, setMaps] = useState<Record<ColourMap, number[]> | null>(null);
  useEffect(() => {
    cache ??= client.call('heatmap.colormaps', {});
    void cache.then(setMaps);
  }, [client]);
  return maps;
}
