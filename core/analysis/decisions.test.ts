import { describe, expect, it } from 'vitest';
import { changeCounts, confusion, type Filters, filterRows, fromWire, MISSING, sortRows, toggleCounts, toWire, transition, UNPARSEABLE, type DecisionTable } from './decisions.ts';

// Grades 0 = Exact (best) … 2 = Irrelevant. Rows: gold / a / b
//   r0: 0 / 0 / 0   agree, right
//   r1: 1 / 0 / 1   a optimistic, b fixes it (moves down)
//   r2: 2 / 2 / 0   b breaks it, moves up, off by 2, optimistic
//   r3: 1 / U / 1   a unparseable, b fixes it
//   r4: 2 / 1 / -   b has no answer
function table(): DecisionTable {
  return {
    labels: ['Exact', 'Partial', 'Irrelevant'],
    rows: [
      { pair_id: 'r0', query: 'red drill', title: 'Red Drill 18V', band: 'head', intent: 'exact' },
      { pair_id: 'r1', query: 'blue lamp', title: 'Lamp shade', band: 'torso' },
      { pair_id: 'r2', query: 'cable 2m', title: 'HDMI cable 1m', band: 'tail' },
      { pair_id: 'r3', query: 'oak table', title: 'Oak Table', band: 'head' },
      { pair_id: 'r4', query: 'mug', title: 'Glass', band: 'tail' },
    ],
    gold: Int8Array.from([0, 1, 2, 1, 2]),
    columns: [
      { id: 'run/a', run: 'run', variant: 'a', pred: Int8Array.from([0, 0, 2, UNPARSEABLE, 1]), prob: Float32Array.from([0.9, 0.6, 0.8, NaN, 0.5]) },
      { id: 'run/b', run: 'run', variant: 'b', pred: Int8Array.from([0, 1, 0, 1, MISSING]), prob: Float32Array.from([0.95, 0.7, 0.4, 0.9, NaN]) },
    ],
  };
}
const ids = (rows: Int32Array, t = table()) => Array.from(rows, (i) => t.rows[i].pair_id);
const both = ['run/a', 'run/b'];

describe('decision matrix filters', () => {
  const t = table();
  it('errors, different, off by two, optimistic — over all chosen columns or one', () => {
    expect(ids(filterRows(t, both, { errors: true }))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ids(filterRows(t, both, { errors: true, focus: 'run/b' }))).toEqual(['r2']);
    expect(ids(filterRows(t, both, { different: true }))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ids(filterRows(t, both, { offBy2: true }))).toEqual(['r2']);
    expect(ids(filterRows(t, both, { optimistic: true }))).toEqual(['r1', 'r2', 'r4']);
    expect(ids(filterRows(t, both, { optimistic: true, focus: 'run/a' }))).toEqual(['r1', 'r4']);
  });

  it('changed between two columns: fixed, broken, up, down', () => {
    const ch = (kind: 'any' | 'fixed' | 'broken' | 'up' | 'down') => ids(filterRows(t, both, { changed: { from: 'run/a', to: 'run/b', kind } }));
    expect(ch('any')).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ch('fixed')).toEqual(['r1', 'r3']);
    expect(ch('broken')).toEqual(['r2']);
    expect(ch('up')).toEqual(['r2']);
    expect(ch('down')).toEqual(['r1']);
    expect(changeCounts(t, both, {}, 'run/a', 'run/b')).toEqual({ any: 4, fixed: 2, broken: 1, up: 1, down: 1 });
  });

  it('gold, predicted grade (unparseable too), band, intent, text and regex search combine', () => {
    expect(ids(filterRows(t, both, { gold: ['Partial'] }))).toEqual(['r1', 'r3']);
    expect(ids(filterRows(t, both, { pred: { column: 'run/a', labels: ['unparseable'] } }))).toEqual(['r3']);
    expect(ids(filterRows(t, both, { band: ['tail'], errors: true }))).toEqual(['r2', 'r4']);
    expect(ids(filterRows(t, both, { intent: ['exact'] }))).toEqual(['r0']);
    expect(ids(filterRows(t, both, { search: 'OAK' }))).toEqual(['r3']);
    expect(ids(filterRows(t, both, { search: '\\d+m\\b', regex: true }))).toEqual(['r2']);
    expect(() => filterRows(t, both, { search: '(', regex: true })).toThrow();
    expect(toggleCounts(t, both, { band: ['head'] })).toEqual({ all: 2, errors: 1, different: 1, offBy2: 0, optimistic: 0 });
  });

  it('the one-pass counts equal a filter run per toggle, with other toggles on', () => {
    const cases: Filters[] = [{}, { errors: true }, { optimistic: true, different: true }, { offBy2: true, band: ['tail'] }];
    for (const on of cases) {
      const c = toggleCounts(t, both, on);
      for (const k of ['errors', 'different', 'offBy2', 'optimistic'] as const) expect(c[k]).toBe(filterRows(t, both, { ...on, [k]: true }).length);
    }
  });

  it('answers per column choice and column pair, however the filters were asked before (cached row flags)', () => {
    const t2 = table();
    expect(ids(filterRows(t2, both, { errors: true }), t2)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(ids(filterRows(t2, ['run/b'], { errors: true }), t2)).toEqual(['r2']);
    expect(ids(filterRows(t2, ['run/a'], { different: true }), t2)).toEqual([]); // one column never differs from itself
    expect(ids(filterRows(t2, both, { errors: true, focus: 'run/b' }), t2)).toEqual(['r2']);
    expect(changeCounts(t2, both, {}, 'run/b', 'run/a')).toEqual({ any: 4, fixed: 1, broken: 2, up: 1, down: 1 });
    expect(changeCounts(t2, both, {}, 'run/a', 'run/b')).toEqual({ any: 4, fixed: 2, broken: 1, up: 1, down: 1 });
  });

  it('sorts by disagreement, by a column and by probability', () => {
    const all = filterRows(t, both, {});
    expect(ids(sortRows(t, all, both, { by: 'disagreement' }))[0]).toBe('r2'); // two grades, two apart
    expect(ids(sortRows(t, all, both, { by: 'prob', column: 'run/b' }, true)).slice(0, 2)).toEqual(['r0', 'r3']);
    expect(ids(sortRows(t, all, both, { by: 'column', column: 'run/a' }))[0]).toBe('r3'); // unparseable first
  });

  it('confusion and transition matrices count what the filters show', () => {
    const all = filterRows(t, both, {});
    expect(confusion(t, 'run/a', all)).toEqual([
      [1, 0, 0, 0],
      [1, 0, 0, 1],
      [0, 1, 1, 0],
    ]);
    const tr = transition(t, 'run/a', 'run/b', all);
    expect(tr[0][1]).toBe(1); // r1: Exact → Partial
    expect(tr[3][1]).toBe(1); // r3: unparseable → Partial
    expect(tr.flat().reduce((x, y) => x + y, 0)).toBe(4); // r4 has no b answer
  });

  it('survives the wire', () => {
    const back = fromWire(JSON.parse(JSON.stringify(toWire(t))));
    expect(ids(filterRows(back, both, { changed: { from: 'run/a', to: 'run/b', kind: 'fixed' } }))).toEqual(['r1', 'r3']);
    expect(Number.isNaN(back.columns[0].prob[3])).toBe(true);
  });
});
