/**
 * The built-in synthetic e-commerce data set: a catalogue with explicit type relations, shopper
 * queries with intents and head/torso/tail frequency, labels from the written grading rules
 * (GRADING-RULES.md, see rules.ts) and configurable rater noise.
 */
export { generateDataset, toJsonl, SynthOptions, type SynthDataset, type SynthProduct } from './generate.ts';
export { gradePair, checkModifiers, type Grade, type RuleReason, type ModifierName, type ModifierStatus } from './rules.ts';
export { parseQuery, extractFacts, type ListingExtra } from './parse.ts';
export { buildVocabulary, normalizeTokens, type Vocabulary } from './vocabulary.ts';
export { typeRelation, isRelated, type TypeRelation } from './relations.ts';
export { applyNoise, DEFAULT_CONFUSIONS, type Confusions } from './noise.ts';
export { DEFAULT_LABEL_MIX, LabelMix } from './mix.ts';
export { INTENTS, type Intent, type QuerySpec } from './queries.ts';
export { LREF5_LABELS, type Lref5Label, type ParsedQuery, type ProductFacts, type SizeValue } from './types.ts';
