import { describe, expect, it } from 'vitest';
import { readHomeDepot } from '../loaders/homedepot.ts';
import { sharedDataPath } from '../../util/paths.ts';
import { extractFacts, parseQuery } from './parse.ts';
import { gradePair } from './rules.ts';
import { LREF5_LABELS } from './types.ts';
import { buildVocabulary } from './vocabulary.ts';

// The parser is exact on generated text and a best effort on real text; this checks the best effort
// on Home Depot (read in place, never copied): it never fails, and where it recognises both product
// types, the rule grades agree in direction with the human ratings.
const file = sharedDataPath('homedepot/train.csv');

describe.skipIf(!file)('rules on real Home Depot text (skipped when ../shared/data is absent)', () => {
  it('grades every pair and rates High pairs Exact more often than Low pairs', async () => {
    const vocab = buildVocabulary();
    const exact: Record<string, [number, number]> = { High: [0, 0], Medium: [0, 0], Low: [0, 0] };
    let n = 0;
    for await (const p of readHomeDepot(file!)) {
      if (++n > 12_000) break;
      const q = parseQuery(p.query, vocab);
      const f = extractFacts(p.title, vocab, { brand: p.brand });
      const g = gradePair(q, f, vocab);
      if (!LREF5_LABELS.includes(g.label)) throw new Error(`not an LREF-5 label: ${g.label}`);
      if (q.type && f.type) {
        exact[p.label][0] += g.label === 'Exact' ? 1 : 0;
        exact[p.label][1] += 1;
      }
    }
    const share = (l: string) => exact[l][0] / exact[l][1];
    expect(exact.High[1]).toBeGreaterThan(150);
    expect(exact.Low[1]).toBeGreaterThan(10);
    expect(share('High')).toBeGreaterThan(share('Low'));
  });
});
