import { describe, expect, it } from 'vitest';
import { CHORD_MS, keyName, matchHotkey } from './hotkeys.ts';

const k = (key: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({ key, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('hotkeys', () => {
  it('names keys as the table does (Mod = Ctrl, or Cmd on a Mac)', () => {
    expect(keyName(k('Enter', { shiftKey: true }), false)).toBe('Shift+Enter');
    expect(keyName(k('s', { ctrlKey: true }), false)).toBe('Mod+S');
    expect(keyName(k('s', { metaKey: true }), true)).toBe('Mod+S');
    expect(keyName(k('a'), false)).toBe('A');
  });

  it('matches by mode, and chords only within the chord time', () => {
    expect(matchHotkey('Shift+Enter', 'edit', undefined, 0)).toBe('run-advance');
    expect(matchHotkey('A', 'edit', undefined, 0)).toBeUndefined(); // typing "a" in a cell is typing
    expect(matchHotkey('A', 'command', undefined, 0)).toBe('insert-above');
    expect(matchHotkey('D', 'command', undefined, 0)).toBe('pending');
    expect(matchHotkey('D', 'command', { name: 'D', at: 0 }, CHORD_MS - 1)).toBe('delete');
    expect(matchHotkey('D', 'command', { name: 'D', at: 0 }, CHORD_MS + 1)).toBe('pending');
    expect(matchHotkey('I', 'command', { name: 'I', at: 0 }, 10)).toBe('interrupt');
    expect(matchHotkey('0', 'command', { name: '0', at: 0 }, 10)).toBe('restart');
    expect(matchHotkey('Escape', 'command', undefined, 0)).toBeUndefined();
  });
});
