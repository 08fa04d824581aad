import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../test/helpers/fixtures.ts';
import { loadDecisions, pairDetail } from './load-decisions.ts';
import { exportReview, readReview, setMark } from './review.ts';

export function tinyRun() {
  const f = fixtureDir('review');
  f.file('run.json', JSON.stringify({ data: { scheme: 'lref5' }, variants: ['sft_all', '+dpo'] }));
  const pairs = [
    { pair_id: 'p1', query_id: 'q1', query: 'red drill', product_id: 'a', title: 'Red Drill', label: 'Exact', query_freq: 'head' },
    { pair_id: 'p2', query_id: 'q2', query: 'oak table', product_id: 'b', title: 'Pine Table', label: 'Exact', query_freq: 'tail' },
  ];
  f.file('pairs.jsonl', pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const preds = [
    { pair_id: 'p1', variant: 'sft_all', label: 'Exact', probs: { Exact: 0.8 } },
    { pair_id: 'p2', variant: 'sft_all', label: 'Exact', probs: { Exact: 0.6 } },
    { pair_id: 'p1', variant: '+dpo', label: 'Exact', rationale: 'same drill' },
    { pair_id: 'p2', variant: '+dpo', label: null, raw: 'oak oak' },
    { pair_id: 'p2', variant: '+dpo', label: 'Trivial', split: 'valid' },
  ];
  f.file('predictions.jsonl', preds.map((p) => JSON.stringify(p)).join('\n') + '\n');
  return f.dir;
}

describe('review marks and their exports', () => {
  it('loads a run as a decision table (test split only) and one pair in full', () => {
    const dir = tinyRun();
    const t = loadDecisions([{ dir, name: 'runs/x' }]);
    expect(t.columns.map((c) => c.id)).toEqual(['runs/x/sft_all', 'runs/x/+dpo']);
    expect(Array.from(t.columns[1].pred)).toEqual([0, -1]);
    expect(t.rows[1].band).toBe('tail');
    const d = pairDetail([{ dir, name: 'runs/x' }], 'p2');
    expect(d.answers['runs/x/+dpo']).toEqual({ label: null, raw: 'oak oak' });
    // parsed files are kept between calls, but a file that changed is read again
    appendFileSync(join(dir, 'predictions.jsonl'), JSON.stringify({ pair_id: 'p1', variant: 'vendor', label: 'Trivial' }) + '\n');
    expect(loadDecisions([{ dir, name: 'runs/x' }]).columns.map((c) => c.variant)).toEqual(['sft_all', '+dpo', 'vendor']);
  });

  it('saves marks, refuses unknown grades and pairs, and exports corrected gold and preference pairs', () => {
    const dir = tinyRun();
    expect(() => setMark(dir, 'p2', { label: 'Great' })).toThrow(/not one of Exact/);
    expect(() => setMark(dir, 'nope', { label: 'Trivial' })).toThrow(/not in/);
    setMark(dir, 'p2', { label: 'Marginal', note: 'pine is not oak' });
    setMark(dir, 'p1', { note: 'fine' });
    expect(readReview(dir).marks.p2).toMatchObject({ label: 'Marginal', note: 'pine is not oak' });
    const out = exportReview(dir);
    expect(out.corrected).toBe(1);
    const gold = readFileSync(out.correctedGold, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(gold.map((g) => g.label)).toEqual(['Exact', 'Marginal']);
    const prefs = readFileSync(out.preferences, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // the human grade beats sft_all's Exact; +dpo's unparseable test answer gives no pair
    expect(prefs).toHaveLength(1);
    expect(Object.keys(prefs[0])).toEqual(['prompt', 'chosen', 'rejected', 'pair_id']);
    expect(prefs[0].chosen).toContain('Marginal');
    expect(prefs[0].rejected).toContain('Exact');
    expect(prefs[0].prompt).toContain('oak table');
    setMark(dir, 'p1', null);
    expect(readReview(dir).marks.p1).toBeUndefined();
  });
});
