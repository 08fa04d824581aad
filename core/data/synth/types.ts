import type { Audience, PriceTier } from './catalogue.ts';

/**
 * The facts the grading rules read. A query becomes a ParsedQuery (what is asked for); a product
 * listing becomes ProductFacts (what its visible text states). Anything the text does not state is
 * absent, which the rules treat as "cannot be verified".
 */

/** A size or capacity: a shoe size ("9.5"), an apparel letter ("m"), or a number with a unit ("1.7 l"). */
export interface SizeValue {
  kind: 'shoe' | 'apparel' | 'measure';
  value: string;
  /** canonical unit for kind "measure" (cup, oz, l, gb, v, …) */
  unit?: string;
}

export interface ParsedQuery {
  text: string;
  /** the core product type id; undefined when no known type is named */
  type?: string;
  // primary modifiers
  brand?: string;
  /** a model of the core type ("iphone 14" when the phone itself is wanted) */
  model?: string;
  /** a model the core product must fit ("iphone 14 case") */
  compat?: string;
  audience?: Audience;
  size?: SizeValue;
  /** feature ids the shopper excludes ("without bluetooth") */
  negations: string[];
  // secondary modifiers
  colour?: string;
  material?: string;
  style?: string;
  pack?: number;
  price?: 'budget' | 'premium';
  /** feature ids asked for positively ("bluetooth headphones"): a stated preference, so secondary */
  wants: string[];
}

export interface ProductFacts {
  type?: string;
  brand?: string;
  model?: string;
  compat?: string;
  audience?: Audience;
  size?: SizeValue;
  colour?: string;
  material?: string;
  styles: string[];
  pack?: number;
  priceTier?: PriceTier;
  /** feature id → whether the listing says the product has or lacks it */
  features: Record<string, 'has' | 'lacks'>;
  /** other types named after "bundle with" (judged by the core product, GRADING-RULES.md) */
  bundle: string[];
}

export function emptyQuery(text: string): ParsedQuery {
  return { text, negations: [], wants: [] };
}

export function emptyFacts(): ProductFacts {
  return { styles: [], features: {}, bundle: [] };
}

export function sizeText(s: SizeValue): string {
  return s.kind === 'measure' ? `${s.value} ${s.unit}` : s.kind === 'shoe' ? `size ${s.value}` : `size ${s.value.toUpperCase()}`;
}

/** LREF-5 grades, best to worst (the same order as LREF5.labels in ../labels.ts). */
export const LREF5_LABELS = ['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant'] as const;
export type Lref5Label = (typeof LREF5_LABELS)[number];
