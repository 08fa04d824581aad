import type { Rng } from '../../util/rng.ts';
import { APPAREL_SIZE_DISPLAY, AUDIENCE_TITLE, UNIT_DISPLAY, type ProductTypeDef } from './catalogue.ts';
import type { ProductFacts, SizeValue } from './types.ts';
import type { Vocabulary } from './vocabulary.ts';

/**
 * ProductFacts → a listing as a shop shows it: title, brand, attributes, description. Each fact is
 * written in the title, in the attributes, or both, and never anywhere else; a fact the product
 * lacks is simply not written, which is what makes a query modifier "cannot be verified". The
 * description repeats only the brand and type, so it never carries a fact the title and attributes
 * do not (the label stays decidable from what a model reads).
 */
export interface Listing {
  title: string;
  brand: string;
  category: string;
  attributes: Record<string, string>;
  description: string;
}

export function titleCase(s: string): string {
  return s.replace(/(^|[\s-])([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
}

export function sizeDisplay(s: SizeValue, rng: Rng): string {
  if (s.kind === 'shoe') return s.value;
  if (s.kind === 'apparel') return rng.pick(APPAREL_SIZE_DISPLAY[s.value] ?? [s.value.toUpperCase()]);
  const unit = rng.pick(UNIT_DISPLAY[s.unit ?? ''] ?? [s.unit ?? '']);
  // Short units are often glued to the number in listings ("128GB", "1.7L", "20V").
  const glue = unit.length <= 2 && rng.chance(0.5);
  return glue ? `${s.value}${unit}` : `${s.value} ${unit}`;
}

function sizeInTitle(s: SizeValue, rng: Rng): string {
  return s.kind === 'measure' ? sizeDisplay(s, rng) : `Size ${sizeDisplay(s, rng)}`;
}

function packInTitle(n: number, rng: Rng): string {
  return rng.pick([`Pack of ${n}`, `${n}-Pack`, `${n} Count`, `${n} Pack`]);
}

type Place = 'title' | 'attr' | 'both';

function place(rng: Rng, titleShare = 0.6): Place {
  const r = rng.next();
  return r < titleShare ? 'title' : r < titleShare + 0.2 ? 'both' : 'attr';
}

const inTitle = (p: Place | undefined) => p === 'title' || p === 'both';
const inAttr = (p: Place | undefined) => p === 'attr' || p === 'both';

export function renderListing(f: ProductFacts, vocab: Vocabulary, rng: Rng): Listing {
  const type = vocab.types.get(f.type!)!;
  const model = f.model ? vocab.models.get(f.model) : undefined;
  const compat = f.compat ? vocab.models.get(f.compat) : undefined;
  const brand = f.brand!;
  const places = {
    audience: f.audience ? place(rng) : undefined,
    size: f.size ? place(rng) : undefined,
    colour: f.colour ? place(rng) : undefined,
    material: f.material ? place(rng) : undefined,
    style: f.styles.length > 0 ? place(rng) : undefined,
    pack: f.pack !== undefined ? place(rng) : undefined,
    compat: compat ? place(rng, 0.75) : undefined,
  };
  const attributes: Record<string, string> = {};
  if (inAttr(places.audience)) attributes.audience = titleCase(f.audience!);
  if (inAttr(places.size)) attributes.size = sizeDisplay(f.size!, rng);
  if (inAttr(places.colour)) attributes.colour = titleCase(f.colour!);
  if (inAttr(places.material)) attributes.material = titleCase(f.material!);
  if (inAttr(places.style)) attributes.style = titleCase(f.styles[0]);
  if (inAttr(places.pack)) attributes.pack = String(f.pack);
  if (inAttr(places.compat)) attributes.compatible_with = compat!.name;
  if (f.priceTier) attributes.price_tier = titleCase(f.priceTier);

  // Title parts in shop order: brand, audience, feature, style, material, [compat] type [model], then the rest.
  const brandInTitle = model !== undefined || rng.chance(0.85);
  const lead: string[] = [];
  if (brandInTitle) lead.push(brand);
  const audienceWord = inTitle(places.audience) ? rng.pick(AUDIENCE_TITLE[f.audience!]) : undefined;
  const forAudience = audienceWord !== undefined && rng.chance(0.25);
  if (audienceWord && !forAudience) lead.push(audienceWord);
  const afterType: string[] = [];
  for (const [id, state] of Object.entries(f.features)) {
    const def = vocab.features.get(id)!;
    const phrase = rng.pick(state === 'has' ? def.has : def.lacks);
    // "with Sugar" and "Contains Gluten" read after the type; "Sugar-Free" before it.
    (/^(with|contains) /i.test(phrase) ? afterType : lead).push(phrase);
  }
  if (inTitle(places.style)) lead.push(titleCase(f.styles[0]));
  if (inTitle(places.material)) lead.push(titleCase(f.material!));
  const compatBefore = inTitle(places.compat) && rng.chance(0.4);
  if (compatBefore) lead.push(compat!.name);
  if (model) lead.push(model.name);
  lead.push(typeText(type, model !== undefined, rng), ...afterType);
  if (inTitle(places.compat) && !compatBefore) lead.push(`for ${compat!.name}`);
  if (forAudience) lead.push(`for ${titleCase(f.audience!)}`);

  const tail: string[] = [];
  if (inTitle(places.colour)) tail.push(titleCase(f.colour === 'grey' && rng.chance(0.3) ? 'gray' : f.colour!));
  if (inTitle(places.size)) tail.push(sizeInTitle(f.size!, rng));
  if (inTitle(places.pack)) tail.push(packInTitle(f.pack!, rng));
  let title = lead.filter(Boolean).join(' ');
  if (tail.length > 0) title += rng.chance(0.5) ? `, ${tail.join(', ')}` : ` - ${tail.join(' ')}`;
  if (f.bundle.length > 0) title += ` Bundle with ${f.bundle.map((b) => titleCase(vocab.types.get(b)!.one)).join(' and ')}`;
  const category = vocab.categories.get(type.category)!.name;
  return {
    title: title.replace(/\s+/g, ' ').trim(),
    brand,
    category,
    attributes,
    description: `${brand} ${type.one} from our ${category} range.`,
  };
}

/** The words naming the type in a title; a phone named by its model may leave the type out. */
function typeText(type: ProductTypeDef, hasModel: boolean, rng: Rng): string {
  if (hasModel && rng.chance(0.6)) return '';
  // Listings mostly name one item by the type's own name; sometimes by a synonym ("Runners", "Cover").
  const useSynonym = type.synonyms.length > 0 && rng.chance(0.2);
  return titleCase(useSynonym ? rng.pick(type.synonyms) : type.one);
}
