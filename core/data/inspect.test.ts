import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { bufferIO as capture } from '../../test/helpers/io.ts';
import { sharedDataPath } from '../util/paths.ts';
import type { PairRecord } from './schema.ts';
import { type DatasetStats, formatStats, inspectDataset, summarise } from './inspect.ts';
import type { PromptFit } from '../text/prompt-fit.ts';

async function inspectJson(args: string[]): Promise<DatasetStats & { prompt_fit: PromptFit }> {
  const io = capture();
  const code = await main(['data', 'inspect', ...args, '--json'], io);
  expect(io.stderr.join('\n')).toBe('');
  expect(code).toBe(0);
  expect(io.stdout).toHaveLength(1);
  return JSON.parse(io.stdout[0]) as DatasetStats & { prompt_fit: PromptFit };
}

const labelCounts = (st: DatasetStats) => Object.fromEntries(st.labels.map((l) => [l.label, l.count]));

describe('inspectDataset', () => {
  const p = (id: string, q: string, product: string, label: string, title: string): PairRecord => ({
    pair_id: id,
    query_id: q,
    query: q.replace('-', ' '),
    product_id: product,
    title,
    label,
  });
  const pairs = [
    p('1', 'red-shoes', 'a', 'Exact', 'Red Shoe'),
    p('2', 'red-shoes', 'b', 'Marginal', 'Blue Running Shoe'),
    p('3', 'red-shoes', 'c', 'Trivial', 'Shoe Insoles'),
    p('4', 'blender', 'd', 'Exact', 'Kitchen Blender 600 W'),
  ];
  const st = inspectDataset({ pairs, scheme: 'lref5', source: 'mem' });

  it('counts pairs, queries, products and labels in scheme order', () => {
    expect([st.pairs, st.queries, st.products]).toEqual([4, 2, 4]);
    expect(st.labels).toEqual([
      { label: 'Exact', count: 2, share: 0.5 },
      { label: 'Significant', count: 0, share: 0 },
      { label: 'Marginal', count: 1, share: 0.25 },
      { label: 'Trivial', count: 1, share: 0.25 },
      { label: 'Irrelevant', count: 0, share: 0 },
    ]);
    expect(st.pairs_per_query).toEqual({ min: 1, median: 2, mean: 2, max: 3 });
    expect(st.title_words).toEqual({ min: 2, median: 2.5, mean: 2.75, max: 4 });
    expect(st.query_words).toEqual({ min: 1, median: 1.5, mean: 1.5, max: 2 });
  });

  it('formats a table with thousands separators and percentages', () => {
    const text = formatStats(st);
    expect(text).toContain('pairs     4');
    expect(text).toMatch(/^Exact\s+2\s+50\.0%$/m);
    expect(text).toMatch(/^pairs per query\s+1\s+2\s+2\s+3$/m);
  });

  it('summarise takes the middle of an even count', () => {
    expect(summarise([4, 1, 3, 2])).toEqual({ min: 1, median: 2.5, mean: 2.5, max: 4 });
    expect(summarise([])).toEqual({ min: 0, median: 0, mean: 0, max: 0 });
  });
});

describe('lref data inspect (CLI)', () => {
  it('prints a table for a small jsonl file and fails clearly on a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-inspect-'));
    const good = join(dir, 'p.jsonl');
    writeFileSync(good, ['Exact', 'Partial', 'Partial'].map((label, i) => JSON.stringify({ pair_id: `${i}`, query_id: 'q', query: 'sofa', product_id: `p${i}`, title: 'Grey Sofa', label })).join('\n'));
    const io = capture();
    expect(await main(['data', 'inspect', good], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain('scheme    wands3 (WANDS)');
    expect(out).toMatch(/^Partial\s+2\s+66\.7%$/m);
    // the label prompt measured against the context: "<bos><query> sofa<product> grey sofa<answer>"
    // is a handful of tokens with one mark per side on "sofa"; a context of 8 must cut all three
    expect(out).toMatch(/prompts \(3 sampled pairs\): label template, vocabulary \d+: mean \d+\.\d tokens \(max \d+\), 2\.0 <hl> marks; 0 of 3 \(0\.0%\) cut to fit a context of 128$/m);
    const tight = capture();
    expect(await main(['data', 'inspect', good, '--context', '8', '--json'], tight)).toBe(0);
    expect(JSON.parse(tight.stdout.join(''))).toMatchObject({ prompt_fit: { context: 8, pairs: 3, cut: 3, cutShare: 1 } });

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"pair_id": 1}\n');
    const io2 = capture();
    expect(await main(['data', 'inspect', bad, '--format', 'jsonl'], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toContain(`lref data inspect: error: ${bad}:1: field pair_id:`);

    const io3 = capture();
    expect(await main(['data', 'inspect'], io3)).toBe(2);
    expect(io3.stderr.join('\n')).toContain('expected one FILE, got 0');
  });

  const homedepot = sharedDataPath('homedepot/train.csv');
  const crowdflower = sharedDataPath('crowdflower/train.csv');
  for (const [name, path] of [['homedepot', homedepot], ['crowdflower', crowdflower]] as const) {
    if (!path) console.warn(`skipping the ${name} real-data tests: ../shared/data/${name}/train.csv is not there`);
  }
  it.skipIf(!homedepot)('reports the Home Depot train set (needs ../shared/data/homedepot/train.csv)', async () => {
    const st = await inspectJson([homedepot!, '--format', 'homedepot']);
    expect([st.pairs, st.queries, st.products, st.scheme]).toEqual([74067, 11795, 54667, 'graded3']);
    expect(labelCounts(st)).toEqual({ High: 34357, Medium: 34595, Low: 5115 });
    expect(st.fields.score).toBe(74067);
    // bands are shares of queries (10% head, 30% torso by pairs per query; ties share a band), not
    // thirds of the pairs: head is ~11% of queries holding 20% of pairs
    expect(st.query_freq.map((f) => [f.bucket, f.queries, f.pairs])).toEqual([
      ['head', 1263, 14986],
      ['torso', 3504, 31201],
      ['tail', 7028, 27880],
    ]);
  });

  it.skipIf(!homedepot)('prints the Home Depot table with detected format', async () => {
    const io = capture();
    expect(await main(['data', 'inspect', homedepot!], io)).toBe(0);
    const out = io.stdout.join('\n');
    expect(out).toContain('pairs     74,067');
    expect(out).toMatch(/^High\s+34,357\s+46\.4%$/m);
  });

  it.skipIf(!crowdflower)('reports the CrowdFlower train set (needs ../shared/data/crowdflower/train.csv)', async () => {
    const st = await inspectJson([crowdflower!, '--format', 'crowdflower']);
    expect([st.pairs, st.queries, st.products, st.scheme]).toEqual([10158, 261, 9708, 'graded4']);
    expect(labelCounts(st)).toEqual({ '4': 6171, '3': 1737, '2': 1476, '1': 774 });
    expect(st.fields.description).toBe(10158 - 2444); // PROVENANCE.md: 2,444 empty descriptions
    // measured as the default preset's run measures it (vocabulary 1,024, context 128): the run logs 54.8% of train cut
    expect(st.prompt_fit).toMatchObject({ context: 128, vocabSize: 1024, pairs: 3000 });
    expect(st.prompt_fit.cutShare).toBeGreaterThan(0.5);
    expect(st.prompt_fit.cutShare).toBeLessThan(0.6);
  });
});
