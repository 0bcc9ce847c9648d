// Keyboard-first: one window-level key handler per view, inactive while the focus is in a text
// field, and never stealing keys a focused slider, list or select box needs for itself.
import { useEffect, useLayoutEffect, useRef } from 'react';

export interface Shortcut {
  keys: string[]; // KeyboardEvent.key values, e.g. 'j', 'ArrowDown', '1', ' ', '?'
  description: string;
  run(event: KeyboardEvent): void;
}

/** Every shortcut the app has, for the ? overlay (views register theirs with the same text). */
export const SHORTCUT_HELP: [string, string][] = [
  ['← → ↑ ↓ / j k', 'move through the grid, or to the previous / next image'],
  ['Enter', 'open the selected image'],
  ['Esc', 'back to the grid / close a dialog'],
  ['1 – 9', 'toggle the tag with that hotkey on the selected images'],
  ['Space', 'mark reviewed (and move on in the image view)'],
  ['u', 'undo the last change'],
  ['f', 'find similar images to the selected (or open) images'],
  ['x', 'not this pattern: reject the selected candidates of Find similar (never proposed again)'],
  ['/', 'focus the text filter'],
  ['Shift+click, Ctrl+click', 'select a range, add to the selection'],
  ['?', 'show this list'],
];

const SLIDER_KEYS = new Set([
  'ArrowLeft',
  'ArrowRight',
  'ArrowUp',
  'ArrowDown',
  'Home',
  'End',
  'PageUp',
  'PageDown',
]);

/** True when the key belongs to the focused control rather than to the app. */
export function keyBelongsToFocus(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement) || target === document.body) return false;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || target.isContentEditable) return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    if (type === 'range') return SLIDER_KEYS.has(event.key);
    if (type === 'checkbox' || type === 'radio' || type === 'button')
      return event.key === ' ' || event.key === 'Enter';
    return true; // text, number, search …
  }
  if (tag === 'SELECT') return true;
  const role = target.getAttribute('role');
  if (role === 'listbox' || role === 'slider' || role === 'option' || role === 'menu')
    return SLIDER_KEYS.has(event.key) || event.key === ' ';
  if (tag === 'BUTTON') return event.key === ' ' || event.key === 'Enter';
  return false;
}

export function useShortcuts(shortcuts: Shortcut[], active = true): void {
  const current = useRef(shortcuts);
  // Updated at commit, before the next key press can arrive.
  useLayoutEffect(() => {
    current.current = shortcuts;
  });
  useEffect(() => {
    if (!active) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.altKey || event.metaKey || (event.ctrlKey && event.key !== 'z'))
        return;
      if (keyBelongsToFocus(event)) return;
      // A modal dialog owns the keyboard (Esc closes it natively).
      if (document.querySelector('dialog[open]')) return;
      const shortcut = current.current.find((s) => s.keys.includes(event.key));
      if (!shortcut) return;
      event.preventDefault();
      shortcut.run(event);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active]);
}
