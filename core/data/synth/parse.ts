import { APPAREL_SIZE_FORMS, PACK_WORDS, UNIT_FORMS, type PriceTier } from './catalogue.ts';
import { emptyFacts, emptyQuery, type ParsedQuery, type ProductFacts, type SizeValue } from './types.ts';
import { NEGATION_PREFIX, SEP, normalizeTokens, phraseKey, type LexEntry, type Vocabulary } from './vocabulary.ts';

/**
 * Text → facts. The scanner walks the normalised tokens once, matching sizes, pack counts and the
 * longest lexicon phrase at each position, and notes whether a mention sits in the main clause, after
 * "for" / "compatible with" (what the product fits or is meant for) or after "bundle with" (extras).
 * The core type is the last type named in the main clause: English compounds put the head last
 * ("running shoe insoles" are insoles, "iphone 14 case" is a case).
 */
type Mention =
  | LexEntry
  | { kind: 'size'; value: SizeValue }
  | { kind: 'pack'; value: number }
  | { kind: 'negated'; value: string }
  | { kind: 'present'; value: string };

interface Scanned {
  mention: Mention;
  clause: 'main' | 'for' | 'bundle';
}

const PACK = new Set(PACK_WORDS);
const NUM = /^\d+(?:\.\d+)?$/;

function canonNumber(s: string): string {
  return String(Number(s));
}

function scan(text: string, vocab: Vocabulary): Scanned[] {
  const toks = normalizeTokens(text).map((t) => vocab.correct(t));
  const out: Scanned[] = [];
  let clause: Scanned['clause'] = 'main';
  let i = 0;
  const push = (mention: Mention) => out.push({ mention, clause });
  while (i < toks.length) {
    const t = toks[i];
    const next = toks[i + 1];
    if (t === SEP) {
      clause = 'main';
      i++;
      continue;
    }
    if (t === 'for' || (t === 'compatible' && next === 'with') || t === 'fits') {
      clause = 'for';
      i += t === 'compatible' ? 2 : 1;
      continue;
    }
    if (t === 'bundle' && next === 'with') {
      clause = 'bundle';
      i += 2;
      continue;
    }
    // "size 9", "size m", "size x large"
    if ((t === 'size' || t === 'sz') && next !== undefined) {
      if (NUM.test(next)) {
        push({ kind: 'size', value: { kind: 'shoe', value: canonNumber(next) } });
        i += 2;
        continue;
      }
      const two = `${next} ${toks[i + 2] ?? ''}`;
      const app = APPAREL_SIZE_FORMS[two] ?? APPAREL_SIZE_FORMS[next];
      if (app) {
        push({ kind: 'size', value: { kind: 'apparel', value: app } });
        i += APPAREL_SIZE_FORMS[two] ? 3 : 2;
        continue;
      }
    }
    // "pack of 6", "set of 4"
    if ((t === 'pack' || t === 'set' || t === 'case') && next === 'of' && NUM.test(toks[i + 2] ?? '')) {
      push({ kind: 'pack', value: Number(toks[i + 2]) });
      i += 3;
      continue;
    }
    // "6 pack", "12 count", "1.7 l", "12 cup"
    if (NUM.test(t) && next !== undefined) {
      if (PACK.has(next)) {
        push({ kind: 'pack', value: Number(t) });
        i += 2;
        continue;
      }
      const unit = UNIT_FORMS[next];
      if (unit) {
        push({ kind: 'size', value: { kind: 'measure', value: canonNumber(t), unit } });
        i += 2;
        continue;
      }
    }
    let matched = false;
    for (let len = Math.min(vocab.maxPhrase, toks.length - i); len >= 1 && !matched; len--) {
      const slice = toks.slice(i, i + len);
      if (slice.includes(SEP)) continue;
      const entry = vocab.lexicon.get(slice.join(' '));
      if (!entry) continue;
      matched = true;
      if (entry.kind === 'feature') {
        const negBefore = i > 0 && NEGATION_PREFIX.has(toks[i - 1]);
        const freeAfter = toks[i + len] === 'free';
        push({ kind: negBefore || freeAfter ? 'negated' : 'present', value: entry.value });
        i += len + (freeAfter ? 1 : 0);
      } else if (entry.kind === 'feature_has') {
        push({ kind: 'present', value: entry.value });
        i += len;
      } else if (entry.kind === 'feature_lacks') {
        push({ kind: 'negated', value: entry.value });
        i += len;
      } else {
        push(entry);
        i += len;
      }
    }
    if (!matched) i++;
  }
  return out;
}

/** What both a query and a listing state, before the core type decides how models are read. */
interface Collected {
  types: string[];
  forTypes: string[];
  bundleTypes: string[];
  models: string[];
  brand?: string;
  audience?: ParsedQuery['audience'];
  size?: SizeValue;
  colour?: string;
  material?: string;
  styles: string[];
  pack?: number;
  price?: 'budget' | 'premium';
  negated: string[];
  present: string[];
}

function collect(scanned: Scanned[]): Collected {
  const c: Collected = { types: [], forTypes: [], bundleTypes: [], models: [], styles: [], negated: [], present: [] };
  for (const { mention: m, clause } of scanned) {
    switch (m.kind) {
      case 'type':
        (clause === 'main' ? c.types : clause === 'for' ? c.forTypes : c.bundleTypes).push(m.value);
        break;
      case 'model':
        if (clause !== 'bundle') c.models.push(m.value);
        break;
      case 'brand':
        if (clause === 'main') c.brand ??= m.value;
        break;
      case 'audience':
        c.audience ??= m.value;
        break;
      case 'size':
        c.size ??= m.value;
        break;
      case 'apparel_size':
        c.size ??= { kind: 'apparel', value: m.value };
        break;
      case 'colour':
        c.colour ??= m.value;
        break;
      case 'material':
        c.material ??= m.value;
        break;
      case 'style':
        if (!c.styles.includes(m.value)) c.styles.push(m.value);
        break;
      case 'pack':
        c.pack ??= m.value;
        break;
      case 'price':
        c.price ??= m.value;
        break;
      case 'negated':
        if (!c.negated.includes(m.value)) c.negated.push(m.value);
        break;
      case 'present':
        if (!c.present.includes(m.value)) c.present.push(m.value);
        break;
    }
  }
  return c;
}

/**
 * Core type and the reading of named models: a model of the core type is the model wanted; a model
 * of the type the core product is made for (a case's phone) is a compatibility requirement.
 */
function resolveType(c: Collected, vocab: Vocabulary): { type?: string; model?: string; compat?: string } {
  let type: string | undefined = c.types[c.types.length - 1] ?? c.forTypes[c.forTypes.length - 1];
  if (type === undefined && c.models.length > 0) type = vocab.models.get(c.models[0])?.type;
  let model: string | undefined;
  let compat: string | undefined;
  const def = type ? vocab.types.get(type) : undefined;
  for (const id of c.models) {
    const m = vocab.models.get(id);
    if (!m) continue;
    if (m.type === type) model ??= id;
    else if (def?.compatWith === m.type) compat ??= id;
  }
  return { type, model, compat };
}

/** Query text → ParsedQuery. Exact on generated queries; a best effort on real ones. */
export function parseQuery(text: string, vocab: Vocabulary): ParsedQuery {
  const c = collect(scan(text, vocab));
  const q = emptyQuery(text);
  Object.assign(q, stripUndefined(resolveType(c, vocab)));
  if (c.brand !== undefined) q.brand = c.brand;
  if (c.audience !== undefined) q.audience = c.audience;
  if (c.size !== undefined) q.size = c.size;
  if (c.colour !== undefined) q.colour = c.colour;
  if (c.material !== undefined) q.material = c.material;
  if (c.styles.length > 0) q.style = c.styles[0];
  if (c.pack !== undefined) q.pack = c.pack;
  if (c.price !== undefined) q.price = c.price;
  q.negations = c.negated;
  q.wants = c.present.filter((f) => !c.negated.includes(f));
  return q;
}

/** Listing fields besides the title that a model (and the rules) may read. */
export interface ListingExtra {
  brand?: string;
  attributes?: Record<string, string>;
}

/**
 * How an attribute value is read: the key says what kind of value it is, so a bare "9" under
 * "size" is a shoe size and a bare "6" under "pack" a pack count.
 */
function attributeText(key: string, value: string): string | undefined {
  const k = key.toLowerCase().replace(/[^a-z]/g, '');
  if (k === 'size') return NUM.test(value.trim()) || /^[a-z]{1,3}$/i.test(value.trim()) ? `size ${value}` : value;
  if (k === 'pack' || k === 'packcount' || k === 'count') return `pack of ${value}`;
  if (k === 'compatiblewith' || k === 'compatibility') return `for ${value}`;
  if (k === 'pricetier' || k === 'price') return undefined;
  return value;
}

/** Listing title (+ brand and attributes when given) → ProductFacts. */
export function extractFacts(title: string, vocab: Vocabulary, extra: ListingExtra = {}): ProductFacts {
  const fromTitle = collect(scan(title, vocab));
  // Attributes are read as extra clauses of the same listing: "title | size 9 | for iPhone 14".
  const attrTexts: string[] = [];
  let priceTier: PriceTier | undefined;
  for (const [key, value] of Object.entries(extra.attributes ?? {})) {
    const k = key.toLowerCase().replace(/[^a-z]/g, '');
    if (k === 'pricetier') {
      const v = value.trim().toLowerCase();
      if (v === 'budget' || v === 'mid' || v === 'premium') priceTier = v;
      continue;
    }
    const t = attributeText(key, value);
    if (t !== undefined) attrTexts.push(t);
  }
  const fromAttrs = collect(scan(attrTexts.join(' | '), vocab));
  const merged: Collected = {
    types: fromTitle.types.length > 0 ? fromTitle.types : fromAttrs.types,
    forTypes: [...fromTitle.forTypes, ...fromAttrs.forTypes],
    bundleTypes: fromTitle.bundleTypes,
    models: [...fromTitle.models, ...fromAttrs.models],
    brand: fromTitle.brand ?? fromAttrs.brand,
    audience: fromTitle.audience ?? fromAttrs.audience,
    size: fromTitle.size ?? fromAttrs.size,
    colour: fromTitle.colour ?? fromAttrs.colour,
    material: fromTitle.material ?? fromAttrs.material,
    styles: [...new Set([...fromTitle.styles, ...fromAttrs.styles])],
    pack: fromTitle.pack ?? fromAttrs.pack,
    negated: [...new Set([...fromTitle.negated, ...fromAttrs.negated])],
    present: [...new Set([...fromTitle.present, ...fromAttrs.present])],
  };
  const f = emptyFacts();
  Object.assign(f, stripUndefined(resolveType(merged, vocab)));
  const brand = extra.brand !== undefined ? (vocab.brandsByKey.get(phraseKey(extra.brand)) ?? extra.brand) : merged.brand;
  if (brand !== undefined) f.brand = brand;
  if (f.brand === undefined && f.model !== undefined) f.brand = vocab.models.get(f.model)?.brand;
  if (merged.audience !== undefined) f.audience = merged.audience;
  if (merged.size !== undefined) f.size = merged.size;
  if (merged.colour !== undefined) f.colour = merged.colour;
  if (merged.material !== undefined) f.material = merged.material;
  f.styles = merged.styles;
  if (merged.pack !== undefined) f.pack = merged.pack;
  if (priceTier !== undefined) f.priceTier = priceTier;
  for (const id of merged.present) f.features[id] = 'has';
  for (const id of merged.negated) f.features[id] = 'lacks';
  f.bundle = merged.bundleTypes;
  return f;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
