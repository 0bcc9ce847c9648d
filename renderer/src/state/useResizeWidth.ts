// The width of an element, kept current with a ResizeObserver.
import type { RefObject } from 'react';
import { useResizeBox } from './useResizeBox';

export function useResizeWidth(ref: RefObject<HTMLElement | null>): number {
  return useResizeBox(ref).width;
}
