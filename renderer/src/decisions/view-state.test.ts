import { describe, expect, it } from 'vitest';
import { decodeView, encodeView, type DecisionViewState } from './view-state.ts';

describe('decision view state in the URL', () => {
  it('round-trips every part of the view', () => {
    const v: DecisionViewState = {
      runs: ['runs/a', 'runs/b'],
      columns: ['runs/a/+dr', 'runs/a/+dpo'],
      filters: { changed: { from: 'runs/a/+dr', to: 'runs/a/+dpo', kind: 'fixed' }, search: 'oak & pine', band: ['tail'] },
      sort: { by: 'disagreement' },
      desc: true,
      selected: 'p0001',
      compare: ['runs/a/+dr', 'runs/a/+dpo'],
    };
    expect(decodeView('#' + encodeView(v))).toEqual(v);
  });
  it('ignores hashes of other views and drops a malformed filter', () => {
    expect(decodeView('#nb=notebooks/x.ipynb')).toBeUndefined();
    expect(decodeView('#view=decisions&runs=runs/a&f={bad')).toMatchObject({ runs: ['runs/a'], filters: {} });
  });
});
