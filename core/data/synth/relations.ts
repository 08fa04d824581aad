import type { Vocabulary } from './vocabulary.ts';

/**
 * How a product's type stands to the type a query asks for (GRADING-RULES.md "core product"), in
 * order of precedence: same type; close substitute; a declared accessory / complement / part (or,
 * seen from the accessory, the product it serves: "parent"); another type of the same category;
 * unrelated. "unknown" when either side names no known type.
 */
export type TypeRelation = 'same' | 'substitute' | 'accessory' | 'complement' | 'part' | 'parent' | 'same_category' | 'unrelated' | 'unknown';

/** All relations computed once per vocabulary: query type → product type → relation. */
const tables = new WeakMap<Vocabulary, Map<string, Map<string, TypeRelation>>>();

function table(vocab: Vocabulary): Map<string, Map<string, TypeRelation>> {
  let t = tables.get(vocab);
  if (!t) {
    t = new Map();
    for (const q of vocab.types.keys()) t.set(q, new Map([...vocab.types.keys()].map((p) => [p, computeRelation(vocab, q, p)])));
    tables.set(vocab, t);
  }
  return t;
}

export function typeRelation(vocab: Vocabulary, queryType: string | undefined, productType: string | undefined): TypeRelation {
  if (queryType === undefined || productType === undefined) return 'unknown';
  return table(vocab).get(queryType)?.get(productType) ?? 'unknown';
}

/** Product types by their relation to a query type (for drawing products). */
export function typesByRelation(vocab: Vocabulary, queryType: string): ReadonlyMap<string, TypeRelation> {
  return table(vocab).get(queryType) ?? new Map();
}

function computeRelation(vocab: Vocabulary, queryType: string, productType: string): TypeRelation {
  const q = vocab.types.get(queryType);
  const p = vocab.types.get(productType);
  if (!q || !p) return 'unknown';
  if (q.id === p.id) return 'same';
  if (q.substitutes?.includes(p.id) || p.substitutes?.includes(q.id)) return 'substitute';
  const forward = q.related?.find((r) => r.type === p.id);
  if (forward) return forward.kind;
  const backward = p.related?.find((r) => r.type === q.id);
  if (backward) return backward.kind === 'complement' ? 'complement' : 'parent';
  if (q.compatWith === p.id) return 'parent';
  if (q.category === p.category) return 'same_category';
  return 'unrelated';
}

/** Relations the rules grade Trivial: a different but related type. */
export function isRelated(rel: TypeRelation): boolean {
  return rel === 'accessory' || rel === 'complement' || rel === 'part' || rel === 'parent' || rel === 'same_category';
}
