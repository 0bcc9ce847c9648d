// The ? overlay: every keyboard shortcut, in a dialog that Esc closes.
import { useEffect, useRef } from 'react';
import { SHORTCUT_HELP } from '../state/shortcuts';

export function ShortcutHelp({ onClose }: { onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-label="Keyboard shortcuts" className="dialog" onClose={onClose} onCancel={onClose}>
      <h2>Keyboard shortcuts</h2>
      <table className="shortcuts">
        <tbody>
          {SHORTCUT_HELP.map(([keys, what]) => (
            <tr key={keys}>
              <th>
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Shortcuts are off while you type in a text field.</p>
      <button onClick={onClose}>Close</button>
    </dialog>
  );
}
