import {
  APPAREL_SIZE_FORMS,
  AUDIENCE_FORMS,
  CATEGORIES,
  COLOUR_SYNONYMS,
  COLOURS,
  FEATURES,
  MODELS,
  PACK_WORDS,
  PRICE_WORDS,
  TYPES,
  UNIT_FORMS,
  type Audience,
  type CategoryDef,
  type FeatureDef,
  type ModelDef,
  type ProductTypeDef,
} from './catalogue.ts';

/**
 * The lexicon that turns text into facts: every phrase the store uses (type names and synonyms,
 * brands, models, colours, materials, styles, audiences, price words, feature words) mapped to what
 * it means. The generator writes with it and the parser reads with it, so parsing generated text is
 * exact; on real text it is a best effort (unknown words are ignored, typos corrected when unique).
 */
export type LexEntry =
  | { kind: 'type'; value: string }
  | { kind: 'brand'; value: string }
  | { kind: 'model'; value: string }
  | { kind: 'colour'; value: string }
  | { kind: 'material'; value: string }
  | { kind: 'style'; value: string }
  | { kind: 'audience'; value: Audience }
  | { kind: 'price'; value: 'budget' | 'premium' }
  | { kind: 'apparel_size'; value: string }
  /** a feature noun; a neighbouring "no/without/zero/non" or "free" turns it into a negation */
  | { kind: 'feature'; value: string }
  /** a word that by itself says the product has / lacks a feature ("sweetened", "decaf") */
  | { kind: 'feature_has'; value: string }
  | { kind: 'feature_lacks'; value: string };

export interface Vocabulary {
  types: ReadonlyMap<string, ProductTypeDef>;
  categories: ReadonlyMap<string, CategoryDef>;
  models: ReadonlyMap<string, ModelDef>;
  features: ReadonlyMap<string, FeatureDef>;
  /** normalised phrase → meaning */
  lexicon: ReadonlyMap<string, LexEntry>;
  /** longest phrase in tokens */
  maxPhrase: number;
  /** canonical brand name by normalised form */
  brandsByKey: ReadonlyMap<string, string>;
  /** corrects a single unknown word to the one vocabulary word within one edit, else returns it unchanged */
  correct(token: string): string;
  /** true when the token is a word the lexicon uses */
  knows(token: string): boolean;
}

const GLUE_SUFFIXES: ReadonlySet<string> = new Set([...Object.keys(UNIT_FORMS), ...PACK_WORDS]);

/** Words that negate a following feature noun ("no sugar", "without bluetooth"). */
export const NEGATION_PREFIX = new Set(['no', 'without', 'non', 'zero']);
/** Separator token: commas, brackets, pipes and spaced dashes end a phrase and a "for …" clause. */
export const SEP = '|';

/**
 * Lower-cases, drops apostrophes ("women's" → "womens"), splits hyphens ("t-shirt" → "t shirt"),
 * keeps decimals ("1.7") and splits a number glued to a unit or pack word ("128GB" → "128 gb").
 * Commas, brackets, pipes and " - " become the separator token.
 */
export function normalizeTokens(text: string, unitWords: ReadonlySet<string> = GLUE_SUFFIXES): string[] {
  let s = text.toLowerCase().replace(/[’'`]/g, '');
  s = s.replace(/\s[-–—]\s/g, ` ${SEP} `).replace(/[,;()[\]|]/g, ` ${SEP} `);
  s = s.replace(/(\d)\.(\d)/g, '$1\u0001$2');
  s = s.replace(/[^a-z0-9\u0001|]+/g, ' ').replace(/\u0001/g, '.');
  const out: string[] = [];
  for (const t of s.split(' ')) {
    if (!t) continue;
    const m = /^(\d+(?:\.\d+)?)([a-z]+)$/.exec(t);
    if (m && unitWords.has(m[2])) out.push(m[1], m[2]);
    else if (t === SEP && (out.length === 0 || out[out.length - 1] === SEP)) continue;
    else out.push(t);
  }
  while (out[out.length - 1] === SEP) out.pop();
  return out;
}

export function phraseKey(phrase: string): string {
  return normalizeTokens(phrase).filter((t) => t !== SEP).join(' ');
}

let cached: Vocabulary | undefined;

/** The store's vocabulary (built once; the catalogue is static data). */
export function buildVocabulary(): Vocabulary {
  if (cached) return cached;
  const lexicon = new Map<string, LexEntry>();
  const brandsByKey = new Map<string, string>();
  const add = (phrase: string, entry: LexEntry): void => {
    const key = phraseKey(phrase);
    const prev = lexicon.get(key);
    if (prev && (prev.kind !== entry.kind || prev.value !== entry.value)) {
      throw new Error(`vocabulary: "${phrase}" means both ${prev.kind}:${prev.value} and ${entry.kind}:${entry.value}`);
    }
    lexicon.set(key, entry);
  };
  for (const t of TYPES) {
    for (const p of [t.one, t.many, ...t.synonyms]) add(p, { kind: 'type', value: t.id });
    for (const b of t.brands) {
      add(b, { kind: 'brand', value: b });
      brandsByKey.set(phraseKey(b), b);
    }
    for (const m of t.materials ?? []) add(m, { kind: 'material', value: m });
    for (const s of t.styles ?? []) add(s, { kind: 'style', value: s });
  }
  for (const m of MODELS) add(m.name, { kind: 'model', value: m.id });
  for (const c of COLOURS) add(c, { kind: 'colour', value: c });
  for (const [form, c] of Object.entries(COLOUR_SYNONYMS)) add(form, { kind: 'colour', value: c });
  for (const [form, a] of Object.entries(AUDIENCE_FORMS)) add(form, { kind: 'audience', value: a });
  for (const [form, p] of Object.entries(PRICE_WORDS)) add(form, { kind: 'price', value: p });
  // Single letters (s, m, l) are sizes only after "size"; the parser handles that case itself.
  for (const [form, v] of Object.entries(APPAREL_SIZE_FORMS)) if (form.length > 1) add(form, { kind: 'apparel_size', value: v });
  for (const f of FEATURES) {
    add(f.word, { kind: 'feature', value: f.id });
    add(`${f.word}s`, { kind: 'feature', value: f.id });
  }
  for (const w of ['decaf', 'decaffeinated']) add(w, { kind: 'feature_lacks', value: 'caffeine' });
  add('caffeinated', { kind: 'feature_has', value: 'caffeine' });
  add('unscented', { kind: 'feature_lacks', value: 'fragrance' });
  add('scented', { kind: 'feature_has', value: 'fragrance' });
  add('unsweetened', { kind: 'feature_lacks', value: 'sugar' });
  add('sweetened', { kind: 'feature_has', value: 'sugar' });
  add('wired', { kind: 'feature_lacks', value: 'bluetooth' });
  add('nonstick', { kind: 'feature_lacks', value: 'stick' });

  const words = new Set<string>();
  for (const key of lexicon.keys()) for (const w of key.split(' ')) words.add(w);
  for (const w of ['size', 'pack', 'for', 'with', 'without', 'free', 'compatible', 'bundle', 'count']) words.add(w);
  // Only words of five letters or more are corrected: shorter ones are too often another real word
  // ("pole" is one edit from "polo", "vent" from "tent").
  const corrector = buildCorrector([...words].filter((w) => /^[a-z]{5,}$/.test(w)));

  cached = {
    types: new Map(TYPES.map((t) => [t.id, t])),
    categories: new Map(CATEGORIES.map((c) => [c.id, c])),
    models: new Map(MODELS.map((m) => [m.id, m])),
    features: new Map(FEATURES.map((f) => [f.id, f])),
    lexicon,
    maxPhrase: Math.max(...[...lexicon.keys()].map((k) => k.split(' ').length)),
    brandsByKey,
    correct: (t) => (words.has(t) || !/^[a-z]{5,}$/.test(t) ? t : corrector(t)),
    knows: (t) => words.has(t),
  };
  return cached;
}

/**
 * Spelling correction by one edit (drop, insert, replace, swap adjacent letters), through a
 * symmetric-delete index: a typo is fixed only when exactly one vocabulary word is that close, so a
 * correction never guesses between two words.
 */
function buildCorrector(words: string[]): (t: string) => string {
  const index = new Map<string, string[]>();
  const put = (k: string, w: string) => {
    const l = index.get(k);
    if (!l) index.set(k, [w]);
    else if (!l.includes(w)) l.push(w);
  };
  for (const w of words) {
    put(w, w);
    for (const d of deletes(w)) put(d, w);
  }
  return (t: string) => {
    const cands = new Set<string>();
    for (const k of [t, ...deletes(t)]) for (const w of index.get(k) ?? []) if (editDistance1(t, w)) cands.add(w);
    return cands.size === 1 ? [...cands][0] : t;
  };
}

function deletes(w: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < w.length; i++) out.push(w.slice(0, i) + w.slice(i + 1));
  return out;
}

/** True when a and b differ by at most one insertion, deletion, substitution or adjacent swap. */
export function editDistance1(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  if (a.length === b.length) {
    const diff: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
    if (diff.length === 1) return true;
    return diff.length === 2 && diff[1] === diff[0] + 1 && a[diff[0]] === b[diff[1]] && a[diff[1]] === b[diff[0]];
  }
  const [s, l] = a.length < b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  return s.slice(i) === l.slice(i + 1);
}
