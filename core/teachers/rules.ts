import { canMap, mapLabel, type LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { extractFacts, parseQuery } from '../data/synth/parse.ts';
import { isRelated, type TypeRelation } from '../data/synth/relations.ts';
import { gradePair, type Grade, type RuleReason } from '../data/synth/rules.ts';
import { buildVocabulary, normalizeTokens, SEP, type Vocabulary } from '../data/synth/vocabulary.ts';
import { UserError } from '../util/errors.ts';
import type { RationaleRequest, Teacher } from './teacher.ts';

/**
 * The built-in teacher: writes EE / RA / DR rationales from the written grading rules
 * (GRADING-RULES.md as code: parseQuery + extractFacts + gradePair). On generated data it is exact,
 * because the generator labels with the same rules; on real data it is a best effort.
 *
 * Rationales are written for a student with a 128-token context that must learn to produce them, so
 * they are short (≤ 25 words, see MAX_WORDS) and use a small fixed vocabulary:
 *
 *   EE  why the gold grade holds, fact by fact:
 *       "same type: running shoe. brand Nike met, colour red violated (blue). so Significant."
 *   RA  the grade derived by the rules, product relevance first, then primary/secondary modifiers,
 *       then the deciding rule:
 *       "product: running shoe, same type. primary: brand met, audience met. secondary: colour red
 *        violated (blue). one secondary violated: Significant."
 *   DR  why the given wrong grade is wrong, then the right one:
 *       "not Exact: same type, colour red violated (blue). correct: Significant."
 *
 * Modifier statuses are "met", "violated (what the listing says)" and "unstated" (the rules' "cannot
 * be verified"). Longer lists are shortened step by step (values of met modifiers dropped, then met
 * modifiers counted, then the values of unmet ones dropped) until the rationale fits.
 *
 * When the gold label disagrees with the rules (rater noise in generated data, or a real data set's
 * own judgement), every rationale still ends at the gold label, honestly: the facts are stated as
 * the rules see them and the ending says "rules say Marginal; annotated Significant." We chose this
 * over explaining toward the gold label because a made-up justification would teach the student
 * reasoning that contradicts the facts in its own prompt; the honest form keeps the facts right and
 * lets the answer token carry the annotation.
 *
 * Other label schemes: the rules grade in LREF-5; the grade is mapped to the pair's scheme where a
 * mapping exists (lref5 → esci4, wands3, binary); for schemes without one (Home Depot graded3,
 * CrowdFlower graded4) the rules' LREF-5 grade is quoted and the annotated grade given beside it.
 *
 * When the rules recognise no product type on one side (most real text), the teacher falls back to
 * word overlap — shared query words, missing query words — and says the type was not recognised,
 * ending at the annotated grade rather than pretending the overlap decides it.
 *
 * The RA request's `rules` text is not read: this teacher *is* the rules. Deterministic: no randomness.
 */
export const MAX_WORDS = 25;

type Modifier = Extract<RuleReason, { kind: 'modifier' }>;
type ProductReason = Extract<RuleReason, { kind: 'product' }>;

export interface RuleTeacherOptions {
  /** the store vocabulary the rules read with (default: the built-in catalogue's) */
  vocab?: Vocabulary;
  /** word budget of one rationale (default MAX_WORDS) */
  maxWords?: number;
}

/** What the rules make of one pair: undefined grade when a product type was not recognised. */
export interface RuleReading {
  grade?: Grade;
  /** the rules' grade in the request's scheme (LREF-5 name when the scheme has no mapping) */
  ruleLabel?: string;
  /** true when the rules' grade (in the scheme) is the gold label */
  agrees: boolean;
}

export class RuleTeacher implements Teacher {
  readonly id = 'rules';
  private readonly vocab: Vocabulary;
  private readonly maxWords: number;

  constructor(opts: RuleTeacherOptions = {}) {
    this.vocab = opts.vocab ?? buildVocabulary();
    this.maxWords = opts.maxWords ?? MAX_WORDS;
  }

  async rationale(req: RationaleRequest): Promise<string> {
    return this.write(req);
  }

  /** The rules' reading of a pair in `scheme`, compared with `gold`. */
  read(pair: PairRecord, scheme: LabelScheme, gold: string): RuleReading {
    const grade = gradePair(
      parseQuery(pair.query, this.vocab),
      extractFacts(pair.title, this.vocab, { brand: pair.brand, attributes: pair.attributes }),
      this.vocab,
    );
    if (productOf(grade).relation === 'unknown') return { agrees: false };
    const ruleLabel = canMap('lref5', scheme.id) ? mapLabel('lref5', scheme.id, grade.label) : grade.label;
    return { grade, ruleLabel, agrees: ruleLabel === gold };
  }

  /** The rationale, synchronously (the async `rationale` only wraps this). */
  write(req: RationaleRequest): string {
    if (req.kind === 'dr' && (req.wrong === undefined || req.wrong === req.gold)) {
      throw new UserError(`pair ${req.pair.pair_id}: a DR rationale needs a wrong decision different from gold (got ${req.wrong})`);
    }
    const reading = this.read(req.pair, req.scheme, req.gold);
    // RA names met modifiers without their values: the rule only asks whether they are met, and the
    // RA prompt already spends ~35 of the 128 tokens on the rules text.
    const levels = req.kind === 'ra' ? DETAIL_LEVELS.slice(1) : DETAIL_LEVELS;
    const candidates = reading.grade
      ? levels.map((level) => this.fromRules(req, reading.grade!, reading, level))
      : DETAIL_LEVELS.map((level) => this.fromOverlap(req, level));
    return candidates.find((c) => wordCount(c) <= this.maxWords) ?? candidates[candidates.length - 1];
  }

  // ---------------------------------------------------------------------------------------------
  // From the rules

  private fromRules(req: RationaleRequest, grade: Grade, reading: RuleReading, level: Detail): string {
    const product = productOf(grade);
    const mods = grade.reasons.filter((r): r is Modifier => r.kind === 'modifier');
    const ending = (normal: string) => (reading.agrees ? normal : `rules say ${reading.ruleLabel}; annotated ${req.gold}.`);
    const sentence = (s: string) => (s ? `${s}. ` : '');
    switch (req.kind) {
      case 'ee': {
        const modList = modifierList(mods, level);
        return `${this.typeFact(product)}. ${sentence(modList)}${ending(`so ${req.gold}.`)}`;
      }
      case 'ra': {
        const steps = [`product: ${this.typeName(product.productType)}, ${relationWord(product.relation)}`];
        if (product.relation === 'same' || product.relation === 'substitute') {
          const primary = modifierList(mods.filter((m) => m.importance === 'primary'), level);
          const secondary = modifierList(mods.filter((m) => m.importance === 'secondary'), level);
          if (primary) steps.push(`primary: ${primary}`);
          if (secondary) steps.push(`secondary: ${secondary}`);
        }
        const rule = decidingRule(product.relation, mods);
        return `${steps.join('. ')}. ${rule}: ${ending(`${req.gold}.`)}`;
      }
      case 'dr': {
        const unmet = mods.filter((m) => m.status !== 'met');
        const parts = [this.typeShort(product)];
        if (product.relation === 'same' || product.relation === 'substitute') {
          if (unmet.length > 0) parts.push(modifierList(unmet, level));
          else parts.push(mods.length > 0 ? 'all modifiers met' : 'no modifiers');
        }
        return `not ${req.wrong}: ${parts.join(', ')}. ${ending(`correct: ${req.gold}.`)}`;
      }
    }
  }

  private typeName(id: string | undefined): string {
    if (id === undefined) return 'unknown type';
    return this.vocab.types.get(id)?.one ?? id.replace(/_/g, ' ');
  }

  private category(id: string | undefined): string {
    return (id && this.vocab.types.get(id)?.category) ?? 'unknown';
  }

  /** EE's product sentence: which type, and how it stands to the one asked for. */
  private typeFact(p: ProductReason): string {
    const q = this.typeName(p.queryType);
    const t = this.typeName(p.productType);
    switch (p.relation) {
      case 'same':
        return `same type: ${t}`;
      case 'substitute':
        return `substitute type: ${t} for ${q}`;
      case 'same_category':
        return `related type: ${t}, same category (${this.category(p.productType)}) as ${q}`;
      case 'parent':
        return `related type: ${t}, the item ${q} serves`;
      case 'unrelated':
        return `unrelated type: ${t} (${this.category(p.productType)}) vs ${q} (${this.category(p.queryType)})`;
      default:
        return `related type: ${t}, ${p.relation} of ${q}`;
    }
  }

  /** DR's product clause. */
  private typeShort(p: ProductReason): string {
    const q = this.typeName(p.queryType);
    const t = this.typeName(p.productType);
    if (p.relation === 'same') return 'same type';
    if (p.relation === 'substitute') return `${t} only substitutes ${q}`;
    if (p.relation === 'unrelated') return `${t} unrelated to ${q}`;
    if (p.relation === 'same_category') return `${t} only shares the category of ${q}`;
    if (p.relation === 'parent') return `${t} is the item ${q} serves`;
    return `${t} is ${p.relation} of ${q}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Word overlap, when a product type is not recognised

  private fromOverlap(req: RationaleRequest, level: Detail): string {
    const { shared, missing, total } = overlap(req.pair);
    const max = level === 'full' ? 4 : level === 'terse' ? 1 : 2;
    const list = (ws: string[]) => (ws.length === 0 ? 'none' : ws.slice(0, max).join(' ') + (ws.length > max ? ' …' : ''));
    const end = `annotated ${req.gold}.`;
    switch (req.kind) {
      case 'ee':
        return `type not recognised. shared: ${list(shared)}. missing: ${list(missing)}. ${end}`;
      case 'ra':
        return `product: type not recognised, rules undecided. shared ${shared.length} of ${total} query words. ${end}`;
      case 'dr':
        return `not ${req.wrong}: type not recognised. shared: ${list(shared)}. missing: ${list(missing)}. ${end}`;
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Phrases

/** From most to least detailed; the first one within the word budget is used. */
const DETAIL_LEVELS = ['full', 'metBare', 'metCounted', 'terse'] as const;
type Detail = (typeof DETAIL_LEVELS)[number];

function productOf(grade: Grade): ProductReason {
  return grade.reasons.find((r): r is ProductReason => r.kind === 'product')!;
}

const STATUS_WORD = { met: 'met', violated: 'violated', unverifiable: 'unstated' } as const;

/** The modifier as the query states it, with a word saying what it is when the value does not. */
function modifierValue(m: Modifier): string {
  const v = m.queryValue;
  switch (m.modifier) {
    case 'brand':
    case 'model':
    case 'audience':
    case 'colour':
    case 'material':
    case 'style':
    case 'price':
      return `${m.modifier} ${v}`;
    case 'size':
      return v.startsWith('size') ? v : `size ${v}`;
    default:
      return v; // "for iPhone 14", "without sugar", "pack of 6", "with bluetooth" say what they are
  }
}

/** What the listing says instead, without the words it shares with the query's value ("pack of 4" → "4"). */
function listingDiff(m: Modifier): string {
  const q = m.queryValue.split(' ');
  const p = (m.productValue ?? '').split(' ');
  let i = 0;
  while (i < p.length - 1 && i < q.length && q[i].toLowerCase() === p[i].toLowerCase()) i++;
  return p.slice(i).join(' ');
}

function modifierPhrase(m: Modifier, withValue: boolean): string {
  const name = withValue ? modifierValue(m) : m.modifier;
  if (m.status === 'violated' && withValue) return `${name} violated (${listingDiff(m)})`;
  return `${name} ${STATUS_WORD[m.status]}`;
}

/** A comma-separated modifier list at the given detail; "" when there are none. */
function modifierList(mods: readonly Modifier[], level: Detail): string {
  if (mods.length === 0) return '';
  const met = mods.filter((m) => m.status === 'met');
  const unmet = mods.filter((m) => m.status !== 'met');
  const unmetPhrases = unmet.map((m) => modifierPhrase(m, level !== 'terse'));
  if (level === 'full') return mods.map((m) => modifierPhrase(m, true)).join(', ');
  if (level === 'metBare') return mods.map((m) => modifierPhrase(m, m.status !== 'met')).join(', ');
  // Met modifiers are only counted: what decides a grade is what is not met.
  const metPart = met.length === 0 ? [] : [unmet.length === 0 ? 'all met' : 'others met'];
  return [...unmetPhrases, ...metPart].join(', ');
}

function relationWord(rel: TypeRelation): string {
  if (rel === 'same') return 'same type';
  if (rel === 'substitute') return 'substitute type';
  if (rel === 'unrelated') return 'unrelated type';
  if (rel === 'same_category') return 'same category';
  return rel; // accessory, complement, part, parent
}

/**
 * The rule of GRADING-RULES.md that decides the grade, in words. Mirrors the order of gradePair
 * (rules.ts); the grade itself always comes from gradePair, so a drift here shows as wording only.
 */
function decidingRule(rel: TypeRelation, mods: readonly Modifier[]): string {
  if (rel === 'unrelated' || rel === 'unknown') return 'unrelated type';
  if (isRelated(rel)) return 'related type';
  if (rel === 'substitute') return 'substitute type';
  const n = (importance: Modifier['importance'], status: Modifier['status']) =>
    mods.filter((m) => m.importance === importance && m.status === status).length;
  if (n('primary', 'violated') > 0) return 'primary violated';
  if (n('primary', 'unverifiable') > 0) return 'primary unstated';
  if (n('secondary', 'violated') >= 2) return 'two secondary violated';
  if (n('secondary', 'violated') === 1) return 'one secondary violated';
  if (n('secondary', 'unverifiable') > 0) return 'secondary unstated';
  return mods.length === 0 ? 'no modifiers' : 'all met';
}

// -----------------------------------------------------------------------------------------------
// Word overlap

/** Words that carry no product meaning in a query. */
const STOP = new Set(['a', 'an', 'and', 'the', 'for', 'with', 'of', 'in', 'on', 'to', 'or', 'by', 'x', 'in.', 'ft.']);

/** Plural-insensitive key: "drills" matches "drill". */
function wordKey(w: string): string {
  return w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;
}

/** Query words (in query order, once each) found and not found in the listing's text. */
export function overlap(pair: Pick<PairRecord, 'query' | 'title' | 'brand' | 'attributes'>): {
  shared: string[];
  missing: string[];
  total: number;
} {
  const listing = [pair.title, pair.brand ?? '', ...Object.values(pair.attributes ?? {})].join(' | ');
  const have = new Set(normalizeTokens(listing).map(wordKey));
  // Single letters left by splitting "20v" into "20 v" or "2x4" carry nothing on their own.
  const words = [...new Set(normalizeTokens(pair.query).filter((w) => w !== SEP && !STOP.has(w) && (w.length > 1 || /\d/.test(w))))];
  const shared = words.filter((w) => have.has(wordKey(w)));
  const missing = words.filter((w) => !have.has(wordKey(w)));
  return { shared, missing, total: words.length };
}

export function wordCount(text: string): number {
  return text.split(/\s+/u).filter(Boolean).length;
}
