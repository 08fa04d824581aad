/**
 * Keyboard shortcuts as data, as Jupyter users expect them. `mode` says where a key works: command
 * mode (a cell selected, no editor focused), edit mode (typing in a cell) or both. Chords like D,D
 * are two presses of the key within CHORD_MS. The shortcut list (press H) is made from this table.
 */
export type HotkeyAction =
  | 'run-advance'
  | 'run'
  | 'run-insert'
  | 'save'
  | 'command-mode'
  | 'edit-mode'
  | 'insert-above'
  | 'insert-below'
  | 'delete'
  | 'undo-delete'
  | 'to-markdown'
  | 'to-code'
  | 'interrupt'
  | 'restart'
  | 'select-up'
  | 'select-down'
  | 'move-up'
  | 'move-down'
  | 'shortcuts';

export interface Hotkey {
  action: HotkeyAction;
  /** e.g. "Shift+Enter", "Mod+S" (Mod = Ctrl, or Cmd on a Mac), "D,D" for a chord */
  keys: string;
  mode: 'command' | 'edit' | 'both';
  help: string;
}

export const HOTKEYS: Hotkey[] = [
  { action: 'run-advance', keys: 'Shift+Enter', mode: 'both', help: 'run the cell and select the next' },
  { action: 'run', keys: 'Mod+Enter', mode: 'both', help: 'run the cell' },
  { action: 'run-insert', keys: 'Alt+Enter', mode: 'both', help: 'run the cell and insert one below' },
  { action: 'save', keys: 'Mod+S', mode: 'both', help: 'save the notebook' },
  { action: 'command-mode', keys: 'Escape', mode: 'edit', help: 'command mode (leave the editor)' },
  { action: 'edit-mode', keys: 'Enter', mode: 'command', help: 'edit the selected cell' },
  { action: 'insert-above', keys: 'A', mode: 'command', help: 'insert a cell above' },
  { action: 'insert-below', keys: 'B', mode: 'command', help: 'insert a cell below' },
  { action: 'delete', keys: 'D,D', mode: 'command', help: 'delete the cell' },
  { action: 'undo-delete', keys: 'Z', mode: 'command', help: 'undo the last cell delete' },
  { action: 'to-markdown', keys: 'M', mode: 'command', help: 'make it a Markdown cell' },
  { action: 'to-code', keys: 'Y', mode: 'command', help: 'make it a code cell' },
  { action: 'interrupt', keys: 'I,I', mode: 'command', help: 'interrupt the kernel' },
  { action: 'restart', keys: '0,0', mode: 'command', help: 'restart the kernel' },
  { action: 'select-up', keys: 'ArrowUp', mode: 'command', help: 'select the cell above (also K)' },
  { action: 'select-up', keys: 'K', mode: 'command', help: '' },
  { action: 'select-down', keys: 'ArrowDown', mode: 'command', help: 'select the cell below (also J)' },
  { action: 'select-down', keys: 'J', mode: 'command', help: '' },
  { action: 'move-up', keys: 'Mod+Shift+ArrowUp', mode: 'command', help: 'move the cell up' },
  { action: 'move-down', keys: 'Mod+Shift+ArrowDown', mode: 'command', help: 'move the cell down' },
  { action: 'shortcuts', keys: 'H', mode: 'command', help: 'show this list' },
];

export const CHORD_MS = 800;

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** "Shift+Enter"-style name of a key event; letters upper-cased, Mod for Ctrl/Cmd. */
export function keyName(e: KeyLike, mac = isMac()): string {
  const parts: string[] = [];
  if (mac ? e.metaKey : e.ctrlKey) parts.push('Mod');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey && e.key.length > 1) parts.push('Shift');
  parts.push(e.key.length === 1 ? e.key.toUpperCase() : e.key);
  return parts.join('+');
}

/**
 * Matches a key press against the table, given the previous press (for chords). Returns the action,
 * 'pending' when the key starts a chord, or undefined.
 */
export function matchHotkey(name: string, mode: 'command' | 'edit', prev: { name: string; at: number } | undefined, now: number): HotkeyAction | 'pending' | undefined {
  const inMode = HOTKEYS.filter((h) => h.mode === 'both' || h.mode === mode);
  if (prev && now - prev.at < CHORD_MS) {
    const chord = inMode.find((h) => h.keys === `${prev.name},${name}`);
    if (chord) return chord.action;
  }
  const direct = inMode.find((h) => h.keys === name);
  if (direct) return direct.action;
  if (inMode.some((h) => h.keys.startsWith(`${name},`))) return 'pending';
  return undefined;
}

export function displayKeys(keys: string, mac = isMac()): string {
  return keys.replace(/Mod/g, mac ? '⌘' : 'Ctrl').replace(/Arrow(Up|Down)/g, (_, d: string) => (d === 'Up' ? '↑' : '↓'));
}

function isMac(): boolean {
  return typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
}
