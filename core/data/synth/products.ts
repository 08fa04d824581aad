import type { Rng } from '../../util/rng.ts';
import { AUDIENCES, type PriceTier, type ProductTypeDef } from './catalogue.ts';
import { isRelated, typesByRelation, type TypeRelation } from './relations.ts';
import { emptyFacts, type Lref5Label, type ParsedQuery, type ProductFacts, type SizeValue } from './types.ts';
import type { Vocabulary } from './vocabulary.ts';

/**
 * Building products as facts: a random product of a type, and a product made to stand in a given
 * relation to a query (meets every modifier, misses one secondary, breaks a primary, …). The label
 * of a pair is never taken from these intentions: the generator grades every pair with the rules,
 * so what is written here only steers the label mix.
 */

export function sizeOf(type: ProductTypeDef, value: string): SizeValue {
  const d = type.size!;
  return d.kind === 'measure' ? { kind: 'measure', value, unit: d.unit } : { kind: d.kind, value };
}

function other<T>(rng: Rng, values: readonly T[], not: T | undefined): T | undefined {
  const rest = values.filter((v) => v !== not);
  return rest.length > 0 ? rng.pick(rest) : undefined;
}

function modelsOf(vocab: Vocabulary, typeId: string, brand?: string) {
  return [...vocab.models.values()].filter((m) => m.type === typeId && (brand === undefined || m.brand === brand));
}

/** A random product of a type; each attribute is stated with its own probability, so some are missing. */
export function randomFacts(vocab: Vocabulary, typeId: string, rng: Rng): ProductFacts {
  const t = vocab.types.get(typeId)!;
  const f = emptyFacts();
  f.type = typeId;
  f.brand = rng.pick(t.brands);
  const models = modelsOf(vocab, typeId, f.brand);
  // Phones are always sold by model; other model lines (espresso machines) usually are.
  if (models.length > 0 && (typeId === 'smartphone' || rng.chance(0.7))) f.model = rng.pick(models).id;
  if (t.compatWith && rng.chance(0.85)) f.compat = rng.pick(modelsOf(vocab, t.compatWith)).id;
  if (t.audience && rng.chance(0.8)) f.audience = rng.pick(AUDIENCES);
  if (t.size && rng.chance(0.75)) f.size = sizeOf(t, rng.pick(t.size.values));
  if (t.colours && rng.chance(0.7)) f.colour = rng.pick(t.colours);
  if (t.materials && rng.chance(0.6)) f.material = rng.pick(t.materials);
  if (t.styles && rng.chance(0.5)) f.styles = [rng.pick(t.styles)];
  if (t.packs && rng.chance(0.5)) f.pack = rng.pick(t.packs);
  if (rng.chance(0.4)) f.priceTier = rng.pick<PriceTier>(['budget', 'mid', 'premium']);
  for (const id of t.features ?? []) {
    const def = vocab.features.get(id)!;
    const r = rng.next();
    if (r < 0.3 && def.has.length > 0) f.features[id] = 'has';
    else if (r < 0.65) f.features[id] = 'lacks';
  }
  if (t.related && rng.chance(0.03)) {
    const acc = t.related.filter((r) => r.kind === 'accessory');
    if (acc.length > 0) f.bundle = [rng.pick(acc).type];
  }
  return f;
}

/** Sets every modifier the query states on the product, so the product meets them all. */
export function meetQuery(vocab: Vocabulary, q: ParsedQuery, f: ProductFacts): void {
  if (q.model) {
    f.model = q.model;
    f.brand = vocab.models.get(q.model)!.brand;
  }
  if (q.brand) {
    f.brand = q.brand;
    const m = f.model ? vocab.models.get(f.model) : undefined;
    if (m && m.brand !== q.brand) delete f.model;
  }
  if (q.compat) f.compat = q.compat;
  if (q.audience) f.audience = q.audience;
  if (q.size) f.size = q.size;
  for (const n of q.negations) f.features[n] = 'lacks';
  if (q.colour) f.colour = q.colour;
  if (q.material) f.material = q.material;
  if (q.style) f.styles = [q.style];
  if (q.pack !== undefined) f.pack = q.pack;
  if (q.price) f.priceTier = q.price;
  for (const w of q.wants) f.features[w] = 'has';
}

type Change = (f: ProductFacts) => boolean;

/** Ways to miss one secondary modifier: a different value, or not stating it at all. */
function secondaryMisses(vocab: Vocabulary, q: ParsedQuery, rng: Rng, violateOnly = false): Change[] {
  const t = vocab.types.get(q.type!)!;
  const out: Change[] = [];
  const hide = !violateOnly;
  const swap = <T>(values: readonly T[] | undefined, current: T, set: (v: T | undefined) => void): Change => () => {
    const v = hide && rng.chance(0.4) ? undefined : other(rng, values ?? [], current);
    if (v === undefined && !hide) return false;
    set(v);
    return true;
  };
  if (q.colour) out.push((f) => swap(t.colours, q.colour!, (v) => (v ? (f.colour = v) : delete f.colour))(f));
  if (q.material) out.push((f) => swap(t.materials, q.material!, (v) => (v ? (f.material = v) : delete f.material))(f));
  if (q.style) out.push((f) => swap(t.styles, q.style!, (v) => (f.styles = v ? [v] : []))(f));
  if (q.pack !== undefined) out.push((f) => swap(t.packs, q.pack!, (v) => (v !== undefined ? (f.pack = v) : delete f.pack))(f));
  if (q.price) {
    out.push((f) => swap<PriceTier>(['budget', 'mid', 'premium'], q.price!, (v) => (v ? (f.priceTier = v) : delete f.priceTier))(f));
  }
  return out;
}

/** Ways to break or leave unverifiable one primary modifier. */
function primaryMisses(vocab: Vocabulary, q: ParsedQuery, rng: Rng): Change[] {
  const t = vocab.types.get(q.type!)!;
  const out: Change[] = [];
  if (q.model) {
    out.push((f) => {
      const m = other(rng, modelsOf(vocab, t.id).map((x) => x.id), q.model);
      if (!m) return false;
      f.model = m;
      f.brand = vocab.models.get(m)!.brand;
      return true;
    });
  } else if (q.brand) {
    out.push((f) => {
      const b = other(rng, t.brands, q.brand);
      if (!b) return false;
      f.brand = b;
      const models = modelsOf(vocab, t.id, b);
      if (models.length > 0) f.model = rng.pick(models).id;
      else delete f.model;
      return true;
    });
  }
  if (q.compat) {
    out.push((f) => {
      const m = rng.chance(0.3) ? undefined : other(rng, modelsOf(vocab, t.compatWith!).map((x) => x.id), q.compat);
      if (m) f.compat = m;
      else delete f.compat;
      return true;
    });
  }
  if (q.audience) {
    out.push((f) => {
      const a = rng.chance(0.3) ? undefined : other(rng, AUDIENCES, q.audience);
      if (a) f.audience = a;
      else delete f.audience;
      return true;
    });
  }
  if (q.size && t.size) {
    out.push((f) => {
      const v = rng.chance(0.3) ? undefined : other(rng, t.size!.values, q.size!.value);
      if (v) f.size = sizeOf(t, v);
      else delete f.size;
      return true;
    });
  }
  for (const n of q.negations) {
    out.push((f) => {
      const canHave = vocab.features.get(n)!.has.length > 0;
      if (canHave && rng.chance(0.7)) f.features[n] = 'has';
      else delete f.features[n];
      return true;
    });
  }
  return out;
}

/** Types standing in a given relation to the query's type. */
export function typesWhere(vocab: Vocabulary, queryType: string, pred: (rel: TypeRelation) => boolean): string[] {
  const out: string[] = [];
  for (const [id, rel] of typesByRelation(vocab, queryType)) if (pred(rel)) out.push(id);
  return out;
}

/** Which grades a query can receive at all (a query with no secondary modifier has no Significant products). */
export function feasibleGrades(vocab: Vocabulary, q: ParsedQuery): Lref5Label[] {
  const t = vocab.types.get(q.type!)!;
  const secondaries = [q.colour, q.material, q.style, q.pack, q.price].filter((x) => x !== undefined).length + q.wants.length;
  const primaries = [q.brand ?? q.model, q.compat, q.audience, q.size].filter((x) => x !== undefined).length + q.negations.length;
  const out: Lref5Label[] = ['Exact'];
  if (secondaries > 0) out.push('Significant');
  if ((t.substitutes?.length ?? 0) > 0 || primaries > 0 || secondaries >= 2) out.push('Marginal');
  if (typesWhere(vocab, t.id, isRelated).length > 0) out.push('Trivial');
  out.push('Irrelevant');
  return out;
}

/**
 * A product meant to receive `target` for the query. Returns facts; the caller grades them (a plan
 * that cannot be carried out, e.g. no alternative colour, just yields another grade).
 */
export function productFor(vocab: Vocabulary, q: ParsedQuery, target: Lref5Label, rng: Rng): ProductFacts {
  const t = vocab.types.get(q.type!)!;
  if (target === 'Irrelevant') return randomFacts(vocab, rng.pick(typesWhere(vocab, t.id, (r) => r === 'unrelated')), rng);
  if (target === 'Trivial') {
    // Declared relations (accessory, complement, part, parent) are the interesting Trivial cases: favour them.
    const declared = typesWhere(vocab, t.id, (r) => isRelated(r) && r !== 'same_category');
    const sameCat = typesWhere(vocab, t.id, (r) => r === 'same_category');
    const pool = declared.length > 0 && (sameCat.length === 0 || rng.chance(0.6)) ? declared : sameCat;
    return randomFacts(vocab, rng.pick(pool), rng);
  }
  const f = randomFacts(vocab, t.id, rng);
  meetQuery(vocab, q, f);
  if (target === 'Exact') return f;
  if (target === 'Significant') {
    const misses = secondaryMisses(vocab, q, rng);
    if (misses.length > 0) rng.pick(misses)(f);
    return f;
  }
  // Marginal: a substitute type, a primary modifier missed, or two secondary ones violated.
  const primary = primaryMisses(vocab, q, rng);
  const secondary = secondaryMisses(vocab, q, rng, true);
  const ways: string[] = [];
  if ((t.substitutes?.length ?? 0) > 0) ways.push('substitute');
  if (primary.length > 0) ways.push('primary', 'primary');
  if (secondary.length >= 2) ways.push('secondary');
  const way = ways.length > 0 ? rng.pick(ways) : 'none';
  if (way === 'substitute') {
    const s = randomFacts(vocab, rng.pick(t.substitutes!), rng);
    // Substitutes usually share what the shopper asked for (same brand, colour, …) where they can.
    if (rng.chance(0.6)) copyShared(vocab, q, s);
    return s;
  }
  if (way === 'primary') rng.pick(primary)(f);
  if (way === 'secondary') for (const change of rng.shuffle(secondary).slice(0, 2)) change(f);
  return f;
}

/** Gives a substitute the query's modifiers where its own type allows them. */
function copyShared(vocab: Vocabulary, q: ParsedQuery, f: ProductFacts): void {
  const t = vocab.types.get(f.type!)!;
  if (q.brand && t.brands.includes(q.brand)) {
    f.brand = q.brand;
    const models = modelsOf(vocab, t.id, q.brand);
    if (f.model && !models.some((m) => m.id === f.model)) delete f.model;
  }
  if (q.audience && t.audience) f.audience = q.audience;
  if (q.colour && t.colours?.includes(q.colour)) f.colour = q.colour;
  if (q.material && t.materials?.includes(q.material)) f.material = q.material;
  if (q.size && t.size && t.size.kind === q.size.kind && t.size.values.includes(q.size.value)) f.size = sizeOf(t, q.size.value);
}
