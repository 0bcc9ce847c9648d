// The reviewer's view preferences, kept in localStorage (they are per machine and per person;
// anything the service needs, such as the reviewer's name, is stored by the service).
import { useCallback, useSyncExternalStore } from 'react';
import type { SALIENCY_METHODS } from '../../../electron/contract/protocol';

export type ColourMap = 'turbo' | 'jet' | 'viridis' | 'inferno';
/** A saliency method, or 'default': the model's leaderboard winner (resolved by the service). */
export type Method = (typeof SALIENCY_METHODS)[number] | 'default';

export interface ViewSettings {
  safeView: boolean;
  colourMap: ColourMap;
  opacity: number;
  method: Method;
  threshold: number;
  overlayInGrid: boolean;
}

const KEY = 'vsw.viewSettings';
const DEFAULTS: ViewSettings = {
  safeView: true,
  colourMap: 'turbo',
  opacity: 0.55,
  method: 'default',
  threshold: 0.5,
  overlayInGrid: false,
};

let cached: ViewSettings | null = null;
const listeners = new Set<() => void>();

function read(): ViewSettings {
  if (!cached) {
    try {
      cached = { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<ViewSettings>) };
    } catch {
      cached = { ...DEFAULTS };
    }
  }
  return cached;
}

export function useViewSettings(): [ViewSettings, (patch: Partial<ViewSettings>) => void] {
  const settings = useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, read);
  const update = useCallback((patch: Partial<ViewSettings>) => {
    cached = { ...read(), ...patch };
    localStorage.setItem(KEY, JSON.stringify(cached));
    for (const listener of listeners) listener();
  }, []);
  return [settings, update];
}
