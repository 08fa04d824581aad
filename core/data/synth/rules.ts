import { isRelated, typeRelation, type TypeRelation } from './relations.ts';
import { sizeText, type Lref5Label, type ParsedQuery, type ProductFacts, type SizeValue } from './types.ts';
import { buildVocabulary, phraseKey, type Vocabulary } from './vocabulary.ts';

/**
 * GRADING-RULES.md as code. Product relevance first (same type / substitute / related / unrelated),
 * then modifier relevance for a same-type product:
 *   - any primary modifier violated or unverifiable            → Marginal
 *   - two or more secondary modifiers violated                 → Marginal
 *   - one secondary violated, or any secondary unverifiable    → Significant
 *   - everything met                                           → Exact
 * An unverifiable secondary modifier is "Significant at worst" (rules, Ties and edge cases), so only
 * *violated* secondaries count toward the "two or more" that make a pair Marginal. A close
 * substitute is Marginal whatever its modifiers (the table puts substitutes in the Marginal row and
 * no lower row); its modifiers are still reported so an explanation can mention them.
 */
export type ModifierName =
  | 'brand' | 'model' | 'compatibility' | 'audience' | 'size' | 'negation'
  | 'colour' | 'material' | 'style' | 'pack' | 'price' | 'feature';
export type ModifierStatus = 'met' | 'violated' | 'unverifiable';

export type RuleReason =
  | { kind: 'product'; relation: TypeRelation; queryType?: string; productType?: string }
  | {
      kind: 'modifier';
      modifier: ModifierName;
      importance: 'primary' | 'secondary';
      status: ModifierStatus;
      /** what the query states, in words ("nike", "size 9", "without bluetooth") */
      queryValue: string;
      /** what the listing states, when it states anything */
      productValue?: string;
    }
  | { kind: 'decision'; label: Lref5Label; rule: string };

export interface Grade {
  label: Lref5Label;
  reasons: RuleReason[];
}

type ModifierReason = Extract<RuleReason, { kind: 'modifier' }>;

function check(
  modifier: ModifierName,
  importance: 'primary' | 'secondary',
  queryValue: string,
  productValue: string | undefined,
  same: boolean,
): ModifierReason {
  const status: ModifierStatus = productValue === undefined ? 'unverifiable' : same ? 'met' : 'violated';
  const r: ModifierReason = { kind: 'modifier', modifier, importance, status, queryValue };
  if (productValue !== undefined) r.productValue = productValue;
  return r;
}

const brandKeys = new Map<string, string>();
/** Brands compare by normalised form ("Black+Decker" = "black decker"); memoised, it runs per pair. */
function brandKey(b: string): string {
  let k = brandKeys.get(b);
  if (k === undefined) brandKeys.set(b, (k = phraseKey(b)));
  return k;
}

function sizesEqual(a: SizeValue, b: SizeValue): boolean | undefined {
  if (a.kind !== b.kind || (a.kind === 'measure' && a.unit !== b.unit)) return undefined; // not comparable
  return a.kind === 'apparel' ? a.value === b.value : Number(a.value) === Number(b.value);
}

/** Every modifier the query states, checked against the listing's facts. */
export function checkModifiers(q: ParsedQuery, p: ProductFacts, vocab: Vocabulary): ModifierReason[] {
  const out: ModifierReason[] = [];
  const modelName = (id: string | undefined) => (id === undefined ? undefined : (vocab.models.get(id)?.name ?? id));
  if (q.brand !== undefined) {
    out.push(check('brand', 'primary', q.brand, p.brand, p.brand !== undefined && brandKey(p.brand) === brandKey(q.brand)));
  }
  if (q.model !== undefined) out.push(check('model', 'primary', modelName(q.model)!, modelName(p.model), p.model === q.model));
  if (q.compat !== undefined) out.push(check('compatibility', 'primary', `for ${modelName(q.compat)}`, p.compat && `for ${modelName(p.compat)}`, p.compat === q.compat));
  if (q.audience !== undefined) out.push(check('audience', 'primary', q.audience, p.audience, p.audience === q.audience));
  if (q.size !== undefined) {
    const eq = p.size ? sizesEqual(q.size, p.size) : undefined;
    // A size in another system (a cup count against ounces) says nothing either way.
    out.push(check('size', 'primary', sizeText(q.size), eq === undefined ? undefined : sizeText(p.size!), eq === true));
  }
  for (const f of q.negations) {
    const word = vocab.features.get(f)?.word ?? f;
    const state = p.features[f];
    out.push(check('negation', 'primary', `without ${word}`, state && (state === 'has' ? `with ${word}` : `without ${word}`), state === 'lacks'));
  }
  if (q.colour !== undefined) out.push(check('colour', 'secondary', q.colour, p.colour, p.colour === q.colour));
  if (q.material !== undefined) out.push(check('material', 'secondary', q.material, p.material, p.material === q.material));
  if (q.style !== undefined) {
    out.push(check('style', 'secondary', q.style, p.styles.length > 0 ? p.styles.join(', ') : undefined, p.styles.includes(q.style)));
  }
  if (q.pack !== undefined) out.push(check('pack', 'secondary', `pack of ${q.pack}`, p.pack === undefined ? undefined : `pack of ${p.pack}`, p.pack === q.pack));
  if (q.price !== undefined) out.push(check('price', 'secondary', q.price, p.priceTier, p.priceTier === q.price));
  for (const f of q.wants) {
    const word = vocab.features.get(f)?.word ?? f;
    const state = p.features[f];
    out.push(check('feature', 'secondary', `with ${word}`, state && (state === 'has' ? `with ${word}` : `without ${word}`), state === 'has'));
  }
  return out;
}

/** Grades one pair by the written rules and says why, one structured reason per step. */
export function gradePair(query: ParsedQuery, product: ProductFacts, vocab: Vocabulary = buildVocabulary()): Grade {
  const relation = typeRelation(vocab, query.type, product.type);
  const productReason: RuleReason = { kind: 'product', relation };
  if (query.type !== undefined) productReason.queryType = query.type;
  if (product.type !== undefined) productReason.productType = product.type;
  const reasons: RuleReason[] = [productReason];
  const decide = (label: Lref5Label, rule: string): Grade => {
    reasons.push({ kind: 'decision', label, rule });
    return { label, reasons };
  };
  if (relation === 'unknown') return decide('Irrelevant', 'product type not recognised on one side; treated as unrelated');
  if (relation === 'unrelated') return decide('Irrelevant', 'unrelated product type');
  if (isRelated(relation)) return decide('Trivial', `a different but related type (${relation.replace('_', ' ')})`);
  const mods = checkModifiers(query, product, vocab);
  reasons.push(...mods);
  if (relation === 'substitute') return decide('Marginal', 'a close substitute type');
  const primaryBad = mods.filter((m) => m.importance === 'primary' && m.status !== 'met');
  const secondaryViolated = mods.filter((m) => m.importance === 'secondary' && m.status === 'violated');
  const secondaryUnverified = mods.filter((m) => m.importance === 'secondary' && m.status === 'unverifiable');
  if (primaryBad.some((m) => m.status === 'violated')) return decide('Marginal', 'same type; a primary modifier violated');
  if (primaryBad.length > 0) return decide('Marginal', 'same type; a primary modifier cannot be verified');
  if (secondaryViolated.length >= 2) return decide('Marginal', 'same type; two or more secondary modifiers violated');
  if (secondaryViolated.length === 1) return decide('Significant', 'same type; primary modifiers met; one secondary modifier differs');
  if (secondaryUnverified.length > 0) return decide('Significant', 'same type; primary modifiers met; a secondary modifier cannot be verified');
  return decide('Exact', mods.length === 0 ? 'same type; the query states no modifiers' : 'same type; every stated modifier met');
}
