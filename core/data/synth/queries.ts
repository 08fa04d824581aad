import type { Rng } from '../../util/rng.ts';
import type { QueryFreq } from '../schema.ts';
import { APPAREL_SIZE_FORMS, AUDIENCES, MODELS, TYPES, UNIT_DISPLAY, type ProductTypeDef } from './catalogue.ts';
import { sizeOf } from './products.ts';
import { emptyQuery, type ParsedQuery, type SizeValue } from './types.ts';
import type { Vocabulary } from './vocabulary.ts';

/**
 * Shopper queries: first what is asked (a ParsedQuery built from the catalogue), then how it is
 * written (word order, synonyms, typos). Head queries are short and broad ("running shoes"), tail
 * queries long and specific ("womens red mesh running shoes size 8"). The text is written so that
 * parseQuery recovers exactly the ParsedQuery it was written from.
 */
export const INTENTS = ['type', 'brand_type', 'model', 'attribute', 'negation', 'accessory', 'compatibility', 'typo_synonym'] as const;
export type Intent = (typeof INTENTS)[number];

export interface QuerySpec {
  id: string;
  text: string;
  intent: Intent;
  freq: QueryFreq;
  parsed: ParsedQuery;
}

const MODEL_TYPES = new Set(MODELS.map((m) => m.type));
const COMPAT_TYPES = TYPES.filter((t) => t.compatWith);
const NEGATABLE_TYPES = TYPES.filter((t) => (t.features?.length ?? 0) > 0);
/** types that another type names as its accessory or part, with that parent */
const ACCESSORY_OF: { acc: ProductTypeDef; parent: ProductTypeDef }[] = TYPES.flatMap((p) =>
  (p.related ?? []).filter((r) => r.kind !== 'complement').map((r) => ({ acc: TYPES.find((t) => t.id === r.type)!, parent: p })),
);

type SecondaryKey = 'colour' | 'material' | 'style' | 'pack' | 'price';
type PrimaryKey = 'brand' | 'audience' | 'size';

function secondaryKeys(t: ProductTypeDef): SecondaryKey[] {
  const out: SecondaryKey[] = ['price'];
  if (t.colours) out.push('colour', 'colour');
  if (t.materials) out.push('material');
  if (t.styles) out.push('style');
  if (t.packs) out.push('pack');
  return out;
}

function primaryKeys(t: ProductTypeDef): PrimaryKey[] {
  const out: PrimaryKey[] = ['brand'];
  if (t.audience) out.push('audience');
  if (t.size) out.push('size');
  return out;
}

function setSecondary(q: ParsedQuery, t: ProductTypeDef, key: SecondaryKey, rng: Rng): void {
  if (key === 'colour') q.colour = rng.pick(t.colours!);
  if (key === 'material') q.material = rng.pick(t.materials!);
  if (key === 'style') q.style = rng.pick(t.styles!);
  if (key === 'pack') q.pack = rng.pick(t.packs!.length > 1 ? t.packs!.filter((p) => p > 1) : t.packs!);
  if (key === 'price') q.price = rng.pick(['budget', 'premium'] as const);
}

function setPrimary(q: ParsedQuery, t: ProductTypeDef, key: PrimaryKey, rng: Rng): void {
  if (key === 'brand') q.brand = rng.pick(t.brands);
  if (key === 'audience') q.audience = rng.pick(AUDIENCES);
  if (key === 'size') q.size = sizeOf(t, rng.pick(t.size!.values));
}

/** Adds `n` distinct modifiers, at least one secondary when `needSecondary`. */
function addModifiers(q: ParsedQuery, t: ProductTypeDef, n: number, rng: Rng, needSecondary: boolean): void {
  const sec = [...new Set(rng.shuffle(secondaryKeys(t)))];
  const pri = [...new Set(rng.shuffle(primaryKeys(t)))].filter((k) => !(k === 'brand' && (q.brand || q.model)));
  let added = 0;
  if (needSecondary && sec.length > 0) {
    setSecondary(q, t, sec.shift()!, rng);
    added++;
  }
  const pool = rng.shuffle([...sec.map((k) => ['s', k] as const), ...pri.map((k) => ['p', k] as const)]);
  for (const [kind, key] of pool) {
    if (added >= n) break;
    if (kind === 's') setSecondary(q, t, key as SecondaryKey, rng);
    else setPrimary(q, t, key as PrimaryKey, rng);
    added++;
  }
}

/** What a query of this intent asks for. */
export function querySpecFor(vocab: Vocabulary, intent: Intent, freq: QueryFreq, rng: Rng): ParsedQuery {
  const q = emptyQuery('');
  const extra = freq === 'head' ? 0 : freq === 'torso' ? 1 : 2 + rng.int(2);
  switch (intent) {
    case 'type':
      q.type = rng.pick(TYPES).id;
      break;
    case 'brand_type': {
      const t = rng.pick(TYPES);
      q.type = t.id;
      q.brand = rng.pick(t.brands);
      break;
    }
    case 'model': {
      const m = rng.pick(MODELS);
      q.type = m.type;
      q.model = m.id;
      if (rng.chance(0.3)) q.brand = m.brand;
      if (extra > 0) addModifiers(q, vocab.types.get(m.type)!, extra, rng, true);
      break;
    }
    case 'attribute': {
      const t = rng.pick(TYPES);
      q.type = t.id;
      if (freq === 'tail' && rng.chance(0.5)) q.brand = rng.pick(t.brands);
      addModifiers(q, t, Math.max(1, extra), rng, rng.chance(0.85));
      break;
    }
    case 'negation': {
      const t = rng.pick(NEGATABLE_TYPES);
      q.type = t.id;
      q.negations = [rng.pick(t.features!)];
      if (extra > 0) addModifiers(q, t, extra, rng, rng.chance(0.7));
      break;
    }
    case 'accessory':
    case 'compatibility': {
      // "iphone 14 case" / "case for iphone 14", or, for accessories without models, "insoles for running shoes".
      if (intent === 'compatibility' || rng.chance(0.75)) {
        const t = rng.pick(COMPAT_TYPES);
        q.type = t.id;
        q.compat = rng.pick(MODELS.filter((m) => m.type === t.compatWith)).id;
        if (extra > 0) addModifiers(q, t, extra, rng, true);
      } else {
        const { acc } = rng.pick(ACCESSORY_OF.filter((a) => !a.acc.compatWith));
        q.type = acc.id;
        if (extra > 0) addModifiers(q, acc, extra, rng, true);
      }
      break;
    }
    case 'typo_synonym': {
      const t = rng.pick(TYPES);
      q.type = t.id;
      if (rng.chance(0.5)) q.brand = rng.pick(t.brands);
      if (extra > 0) addModifiers(q, t, extra, rng, rng.chance(0.7));
      break;
    }
  }
  if (!MODEL_TYPES.has(q.type!)) delete q.model;
  return q;
}

const cap = (s: string) => s.toLowerCase();

function sizeWords(s: SizeValue, rng: Rng): string {
  if (s.kind === 'shoe') return rng.pick([`size ${s.value}`, `sz ${s.value}`, `size ${s.value}`]);
  if (s.kind === 'apparel') {
    const forms = Object.entries(APPAREL_SIZE_FORMS).filter(([, v]) => v === s.value).map(([k]) => k);
    const long = forms.filter((f) => f.length > 1);
    return rng.chance(0.5) || long.length === 0 ? `size ${rng.pick(forms)}` : rng.pick(long);
  }
  const unit = cap(rng.pick(UNIT_DISPLAY[s.unit!] ?? [s.unit!]));
  return unit.length <= 2 && rng.chance(0.4) ? `${s.value}${unit}` : `${s.value} ${unit}`;
}

const AUDIENCE_QUERY: Record<string, string[]> = {
  women: ['womens', 'women', "women's"],
  men: ['mens', 'men', "men's"],
  kids: ['kids', "kid's", 'childrens'],
};
const AUDIENCE_SYNONYM: Record<string, string> = { women: 'ladies', men: 'man', kids: 'children' };
const PRICE_QUERY = { budget: ['cheap', 'budget', 'affordable'], premium: ['premium', 'luxury', 'high end'] };

export interface WriteOptions {
  /** use another name for the type or audience ("sneakers", "ladies") */
  synonym?: boolean;
  /** how a compatibility is written: "iphone 14 case" (prefix, accessory intent) or "case for iphone 14" */
  compatForm?: 'prefix' | 'for';
  /** name the product an accessory serves: "insoles for running shoes" */
  forParent?: boolean;
}

/** Writes a ParsedQuery as a shopper might type it. */
export function writeQuery(vocab: Vocabulary, q: ParsedQuery, rng: Rng, opts: WriteOptions = {}): string {
  const t = vocab.types.get(q.type!)!;
  const names = opts.synonym && t.synonyms.length > 0 ? t.synonyms : [t.many, t.many, t.one];
  const typeWord = cap(rng.pick(names));
  const pre: string[] = [];
  const post: string[] = [];
  if (q.price) pre.push(rng.pick(PRICE_QUERY[q.price]));
  if (q.brand) pre.push(cap(q.brand));
  const model = q.model ? cap(vocab.models.get(q.model)!.name) : undefined;
  if (model) pre.push(model);
  let audienceAfter = false;
  if (q.audience) {
    const word = opts.synonym ? AUDIENCE_SYNONYM[q.audience] : rng.pick(AUDIENCE_QUERY[q.audience]);
    audienceAfter = rng.chance(0.35);
    if (audienceAfter) post.push(rng.chance(0.5) ? `for ${word}` : word);
    else pre.push(word);
  }
  for (const n of q.negations) {
    const f = vocab.features.get(n)!;
    const word = cap(f.word);
    // "bluetooth free" is not what people type; "wired" is.
    const forms =
      n === 'bluetooth' ? ['without bluetooth', 'no bluetooth', 'wired']
      : n === 'stick' ? ['non stick', 'nonstick', 'non-stick']
      : [`without ${word}`, `no ${word}`, `${word} free`];
    if (n === 'caffeine') forms.push('decaf');
    if (n === 'fragrance') forms.push('unscented');
    if (n === 'sugar') forms.push('unsweetened');
    const form = rng.pick(forms);
    if (form.startsWith('without')) post.push(form);
    else pre.push(form);
  }
  const mods: string[] = [];
  if (q.colour) mods.push(opts.synonym && q.colour === 'grey' ? 'gray' : q.colour);
  if (q.material) mods.push(q.material);
  if (q.style) mods.push(q.style);
  // Colour/material/style go before the type, or (less often) after it as in "nike running shoes women red".
  const modsAfter = mods.length > 0 && rng.chance(0.25);
  if (!modsAfter) pre.push(...mods);
  let core = typeWord;
  if (q.compat) {
    const m = cap(vocab.models.get(q.compat)!.name);
    const form = opts.compatForm === 'prefix' ? 0 : opts.compatForm === 'for' ? 1 + rng.int(2) : rng.int(3);
    core = form === 0 ? `${m} ${typeWord}` : form === 1 ? `${typeWord} for ${m}` : `${typeWord} compatible with ${m}`;
  } else if (opts.forParent) {
    const parents = ACCESSORY_OF.filter((a) => a.acc.id === t.id);
    if (parents.length > 0) core = `${typeWord} for ${cap(rng.pick(parents).parent.many)}`;
  }
  if (q.model && rng.chance(0.5) && !q.compat) core = ''; // "iphone 14" alone names the phone
  if (modsAfter) post.unshift(...mods);
  if (q.size) post.unshift(sizeWords(q.size, rng));
  if (q.pack !== undefined) post.push(rng.pick([`${q.pack} pack`, `pack of ${q.pack}`, `${q.pack} count`]));
  // Anything after "for …" stays out of the main clause, so a for-phrase goes last.
  const forParts = post.filter((p) => p.startsWith('for '));
  const rest = post.filter((p) => !p.startsWith('for '));
  const coreHasFor = / for | compatible with /.test(` ${core} `);
  const words = coreHasFor ? [...pre, ...rest, core, ...forParts] : [...pre, core, ...rest, ...forParts];
  return words.filter(Boolean).join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * A typo a shopper might make in one word (dropped, doubled or swapped letter), kept only if the
 * vocabulary corrects it back to that word and nothing else, so the intended query stays recoverable.
 */
export function addTypo(vocab: Vocabulary, text: string, rng: Rng): string | undefined {
  const words = text.split(' ');
  const candidates = words.map((w, i) => [w, i] as const).filter(([w]) => /^[a-z]{6,}$/.test(w) && vocab.knows(w));
  for (const [w, i] of rng.shuffle(candidates)) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const k = 1 + rng.int(w.length - 2);
      const kind = rng.int(3);
      const typo =
        kind === 0 ? w.slice(0, k) + w.slice(k + 1) : kind === 1 ? w.slice(0, k) + w[k] + w.slice(k) : w.slice(0, k) + w[k + 1] + w[k] + w.slice(k + 2);
      if (typo === w || vocab.knows(typo) || vocab.correct(typo) !== w) continue;
      const out = words.slice();
      out[i] = typo;
      return out.join(' ');
    }
  }
  return undefined;
}
