import { displayKeys, HOTKEYS } from '../hotkeys.ts';
import { useApp } from '../state/store.ts';

/** The shortcut list, made from the hotkey table (press H in command mode). */
export function ShortcutsDialog() {
  const open = useApp((s) => s.shortcutsOpen);
  if (!open) return null;
  const close = () => useApp.setState({ shortcutsOpen: false });
  return (
    <div className="modal-backdrop" onMouseDown={close}>
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts" onMouseDown={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <p className="muted">Command mode: a cell is selected (blue bar); Esc gets you there. Edit mode: you are typing in a cell (green bar); Enter gets you there.</p>
        <table className="shortcuts">
          <tbody>
            {HOTKEYS.filter((h) => h.help).map((h) => (
              <tr key={h.keys}>
                <td>
                  <kbd>{displayKeys(h.keys)}</kbd>
                </td>
                <td>{h.help}</td>
                <td className="muted">{h.mode === 'both' ? 'any mode' : `${h.mode} mode`}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button onClick={close} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
