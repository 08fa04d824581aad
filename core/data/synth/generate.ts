import { z } from 'zod';
import { Rng } from '../../util/rng.ts';
import type { PairRecord, QueryFreq } from '../schema.ts';
import { renderListing, type Listing } from './listing.ts';
import { DEFAULT_LABEL_MIX, LabelMix, fitGradeWeights } from './mix.ts';
import { applyNoise } from './noise.ts';
import { feasibleGrades, productFor, typesWhere } from './products.ts';
import { INTENTS, addTypo, querySpecFor, writeQuery, type Intent, type QuerySpec } from './queries.ts';
import { isRelated } from './relations.ts';
import { gradePair } from './rules.ts';
import type { Lref5Label, ProductFacts } from './types.ts';
import { buildVocabulary, type Vocabulary } from './vocabulary.ts';

/** Options of the built-in generator (a versioned config, so saved runs can be re-generated). */
export const SynthOptions = z
  .object({
    version: z.literal(1).default(1),
    /** number of query–product pairs */
    pairs: z.number().int().min(1).max(5_000_000),
    /** same seed → byte-identical output */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** share of labels replaced by a neighbouring grade (rater noise); 0 gives the clean rule labels */
    noise: z.number().min(0).max(1).default(0.1),
    /** target label mix (relative weights); default DEFAULT_LABEL_MIX */
    labelMix: LabelMix.optional(),
  })
  .strict();
export type SynthOptions = z.input<typeof SynthOptions>;

export interface SynthProduct extends Listing {
  id: string;
  /** what the listing states, as the rules read it */
  facts: ProductFacts;
}

export interface SynthDataset {
  /** canonical records; `label` carries the noise */
  pairs: PairRecord[];
  /** the rule label of each pair before noise, aligned with `pairs` */
  cleanLabels: Lref5Label[];
  queries: QuerySpec[];
  catalogue: { products: SynthProduct[]; vocab: Vocabulary };
  scheme: 'lref5';
  source: string;
}

/**
 * Query frequency bands: share of queries and pairs per query. Head queries are few but each is
 * paired with many products; tail queries are most of the queries but have one to four pairs.
 */
const FREQ_BANDS: Record<QueryFreq, { share: number; min: number; max: number }> = {
  head: { share: 0.08, min: 15, max: 40 },
  torso: { share: 0.3, min: 5, max: 14 },
  tail: { share: 0.62, min: 1, max: 4 },
};
const INTENT_WEIGHTS: Record<QueryFreq, Partial<Record<Intent, number>>> = {
  head: { type: 0.4, brand_type: 0.3, model: 0.15, accessory: 0.15 },
  torso: { attribute: 0.35, brand_type: 0.08, negation: 0.15, accessory: 0.1, compatibility: 0.12, model: 0.08, typo_synonym: 0.12 },
  tail: { attribute: 0.45, negation: 0.18, compatibility: 0.12, model: 0.1, typo_synonym: 0.15 },
};

function pickIntent(freq: QueryFreq, rng: Rng): Intent {
  const w = INTENT_WEIGHTS[freq];
  const names = INTENTS.filter((i) => (w[i] ?? 0) > 0);
  return rng.weighted(
    names,
    names.map((i) => w[i]!),
  );
}

/** Draws queries until their pair counts add up to the budget; a query written twice gets the pairs of both. */
function makeQueries(vocab: Vocabulary, budget: number, rng: Rng): { spec: QuerySpec; pairs: number }[] {
  const byText = new Map<string, { spec: QuerySpec; pairs: number }>();
  const bands = Object.keys(FREQ_BANDS) as QueryFreq[];
  let left = budget;
  while (left > 0) {
    const freq = rng.weighted(
      bands,
      bands.map((b) => FREQ_BANDS[b].share),
    );
    const band = FREQ_BANDS[freq];
    const n = Math.min(left, band.min + rng.int(band.max - band.min + 1));
    const intent = pickIntent(freq, rng);
    const parsed = querySpecFor(vocab, intent, freq, rng);
    let text: string;
    if (intent === 'typo_synonym') {
      const canSynonym = vocab.types.get(parsed.type!)!.synonyms.length > 0;
      const synonym = canSynonym && rng.chance(0.5);
      text = writeQuery(vocab, parsed, rng, { synonym });
      if (!synonym) text = addTypo(vocab, text, rng) ?? writeQuery(vocab, parsed, rng, { synonym: canSynonym });
    } else if (intent === 'accessory') {
      text = writeQuery(vocab, parsed, rng, { compatForm: 'prefix', forParent: parsed.compat === undefined });
    } else {
      text = writeQuery(vocab, parsed, rng, { compatForm: intent === 'compatibility' ? 'for' : undefined });
    }
    parsed.text = text;
    const seen = byText.get(text);
    if (seen) seen.pairs += n;
    else byText.set(text, { spec: { id: '', text, intent, freq, parsed }, pairs: n });
    left -= n;
  }
  const out = [...byText.values()];
  out.forEach((q, i) => (q.spec.id = `q${String(i + 1).padStart(5, '0')}`));
  return out;
}

/** Types a reused catalogue product may come from, for a target grade. */
function poolTypes(vocab: Vocabulary, spec: QuerySpec, target: Lref5Label): string[] {
  const t = vocab.types.get(spec.parsed.type!)!;
  if (target === 'Exact' || target === 'Significant') return [t.id];
  if (target === 'Marginal') return [t.id, ...(t.substitutes ?? [])];
  if (target === 'Trivial') return typesWhere(vocab, t.id, isRelated);
  return typesWhere(vocab, t.id, (r) => r === 'unrelated');
}

export function generateDataset(options: SynthOptions): SynthDataset {
  const opts = SynthOptions.parse(options);
  const vocab = buildVocabulary();
  const root = new Rng(opts.seed);
  const queryRng = root.fork('queries');
  const pairRng = root.fork('pairs');
  const noiseRng = root.fork('noise');

  const queries = makeQueries(vocab, opts.pairs, queryRng);
  const feasible = queries.map((q) => feasibleGrades(vocab, q.spec.parsed));
  const weights = fitGradeWeights(
    queries.map((q, i) => ({ pairs: q.pairs, feasible: feasible[i] })),
    opts.labelMix ?? DEFAULT_LABEL_MIX,
  );

  const products: SynthProduct[] = [];
  const byType = new Map<string, SynthProduct[]>();
  const addProduct = (facts: ProductFacts): SynthProduct => {
    const p: SynthProduct = { id: `P${String(products.length + 1).padStart(6, '0')}`, facts, ...renderListing(facts, vocab, pairRng) };
    products.push(p);
    const list = byType.get(facts.type!) ?? [];
    list.push(p);
    byType.set(facts.type!, list);
    return p;
  };

  const rows: { spec: QuerySpec; product: SynthProduct; label: Lref5Label }[] = [];
  queries.forEach((q, qi) => {
    const used = new Set<string>();
    const grades = feasible[qi];
    for (let k = 0; k < q.pairs; k++) {
      const target = pairRng.weighted(
        grades,
        grades.map((g) => weights[g]),
      );
      let chosen: { product: SynthProduct; label: Lref5Label } | undefined;
      // Half the time reuse a catalogue product that already gets the target grade (products recur across queries).
      if (pairRng.chance(0.5)) {
        const pool = poolTypes(vocab, q.spec, target);
        for (let attempt = 0; attempt < 6 && !chosen && pool.length > 0; attempt++) {
          const list = byType.get(pairRng.pick(pool));
          if (!list) continue;
          const p = pairRng.pick(list);
          if (used.has(p.id)) continue;
          const label = gradePair(q.spec.parsed, p.facts, vocab).label;
          if (label === target) chosen = { product: p, label };
        }
      }
      if (!chosen) {
        let facts = productFor(vocab, q.spec.parsed, target, pairRng);
        let label = gradePair(q.spec.parsed, facts, vocab).label;
        for (let attempt = 0; attempt < 4 && label !== target; attempt++) {
          facts = productFor(vocab, q.spec.parsed, target, pairRng);
          label = gradePair(q.spec.parsed, facts, vocab).label;
        }
        chosen = { product: addProduct(facts), label };
      }
      used.add(chosen.product.id);
      rows.push({ spec: q.spec, ...chosen });
    }
  });

  const order = pairRng.shuffle(rows.map((_, i) => i));
  const ordered = order.map((i) => rows[i]);
  const cleanLabels = ordered.map((r) => r.label);
  const noisy = applyNoise(cleanLabels, opts.noise, noiseRng);
  const pairs: PairRecord[] = ordered.map((r, i) => {
    const attrs = r.product.attributes;
    const rec: PairRecord = {
      pair_id: `p${String(i + 1).padStart(7, '0')}`,
      query_id: r.spec.id,
      query: r.spec.text,
      product_id: r.product.id,
      title: r.product.title,
      brand: r.product.brand,
      category: r.product.category,
      ...(Object.keys(attrs).length > 0 ? { attributes: attrs } : {}),
      description: r.product.description,
      label: noisy[i],
      query_freq: r.spec.freq,
      intent: r.spec.intent,
    };
    return rec;
  });
  return {
    pairs,
    cleanLabels,
    queries: queries.map((q) => q.spec),
    catalogue: { products, vocab },
    scheme: 'lref5',
    source: `synth:seed=${opts.seed},pairs=${opts.pairs},noise=${opts.noise}`,
  };
}

/** One canonical JSONL line per record (keys in schema order, as built above). */
export function toJsonl(pairs: readonly PairRecord[]): string {
  return pairs.map((p) => JSON.stringify(p)).join('\n') + (pairs.length > 0 ? '\n' : '');
}
