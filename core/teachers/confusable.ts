import type { PairRecord } from '../data/schema.ts';
import { labelIndex, type LabelScheme } from '../data/labels.ts';
import { gradePair, type Grade, type RuleReason } from '../data/synth/rules.ts';
import { extractFacts, parseQuery } from '../data/synth/parse.ts';
import { buildVocabulary } from '../data/synth/vocabulary.ts';
import { UserError } from '../util/errors.ts';
import type { ConfusableRequest, Teacher } from './teacher.ts';

/**
 * The rule teacher's answer to LREF's mislabel-supervisor question: "which label is the annotated
 * one most easily confused with?" (label′, always ≠ the annotated label). MS is trained on label′,
 * so it learns where raters typically slip; a pair whose annotation equals MS's prediction looks
 * like such a slip.
 *
 * For LREF-5 the pair is re-graded by the written rules (GRADING-RULES.md via parseQuery +
 * extractFacts + gradePair) and the structured reasons name the slip a rater would most plausibly
 * make. The mapping, for an annotation the rules agree with:
 *
 *   Exact        → Significant  the only neighbour: a cautious rater marks a full match down
 *   Significant  → Exact        the one differing / unverifiable secondary modifier overlooked
 *                → Marginal     …but when a secondary differs AND another is unverifiable, a rater
 *                               who reads "not stated" as "not met" counts two differences
 *   Marginal     → Significant  one primary modifier violated or unverifiable, or two or more
 *                               secondary ones violated: the decisive problem overlooked
 *                → Trivial      two or more primary modifiers violated: so far off the product is
 *                               taken for a merely related one
 *                → Significant  a substitute type whose modifiers are all met (the type difference
 *                               overlooked); a substitute with unmet modifiers → Trivial (taken for
 *                               another type)
 *   Trivial      → Marginal     an accessory, part, complement or parent taken for the product
 *                → Irrelevant   another type of the same category: only the shelf is shared
 *   Irrelevant   → Trivial      an unrelated type read as somehow related
 *
 * When the rules disagree with the annotation by one grade, the annotation itself is probably the
 * slip, and the label it was confused with is the one the rules give: label′ = the rule label.
 *
 * Everything else — other schemes, real text where the rules recognise no product type, or rules two
 * or more grades from the annotation (they misread the pair) — takes the generic answer: the
 * neighbouring grade, the more relevant one when there are two. Why more relevant: LREF reports
 * that most rater and model errors over-grade (the optimistic bias), so a label is most often
 * confused with the grade above it. Deterministic: no randomness anywhere.
 */
export interface ConfusableAnswer {
  label: string;
  /** why this label: the rule that named it (shown in the UI and tests) */
  why: string;
}

/** The neighbouring grade, preferring the more relevant one (labels are best → worst). */
export function neighbourConfusable(scheme: LabelScheme, gold: string): ConfusableAnswer {
  const g = labelIndex(scheme, gold);
  if (scheme.labels.length < 2) throw new UserError(`scheme ${scheme.id} has one label; no label can be confused with "${gold}"`);
  if (g > 0) return { label: scheme.labels[g - 1], why: 'neighbouring grade (the more relevant one)' };
  return { label: scheme.labels[g + 1], why: 'neighbouring grade (the best grade has only a less relevant one)' };
}

type Modifier = Extract<RuleReason, { kind: 'modifier' }>;

/** Re-grades an LREF-5 pair by the written rules; undefined when the rules recognise no product type. */
export function ruleGrade(pair: PairRecord): Grade | undefined {
  const vocab = buildVocabulary();
  const grade = gradePair(parseQuery(pair.query, vocab), extractFacts(pair.title, vocab, { brand: pair.brand, attributes: pair.attributes }), vocab);
  const product = grade.reasons.find((r) => r.kind === 'product');
  return product?.relation === 'unknown' ? undefined : grade;
}

/** The slip a rater would most plausibly make on a pair the rules grade `grade` (see the table above). */
export function slipFrom(grade: Grade): ConfusableAnswer {
  const product = grade.reasons.find((r): r is Extract<RuleReason, { kind: 'product' }> => r.kind === 'product')!;
  const mods = grade.reasons.filter((r): r is Modifier => r.kind === 'modifier');
  const count = (importance: Modifier['importance'], status: Modifier['status']) => mods.filter((m) => m.importance === importance && m.status === status).length;
  switch (grade.label) {
    case 'Exact':
      return { label: 'Significant', why: 'Exact: a cautious rater marks a full match down' };
    case 'Significant':
      if (count('secondary', 'violated') === 1 && count('secondary', 'unverifiable') > 0) {
        return { label: 'Marginal', why: 'Significant: one secondary modifier differs and another is unverifiable; counted as two differences' };
      }
      return { label: 'Exact', why: 'Significant: the one differing or unverifiable secondary modifier overlooked' };
    case 'Marginal': {
      if (product.relation === 'substitute') {
        return mods.every((m) => m.status === 'met')
          ? { label: 'Significant', why: 'Marginal: a close substitute with every modifier met; the type difference overlooked' }
          : { label: 'Trivial', why: 'Marginal: a close substitute with unmet modifiers taken for another type' };
      }
      if (count('primary', 'violated') >= 2) {
        return { label: 'Trivial', why: 'Marginal: two or more primary modifiers violated; taken for a merely related product' };
      }
      return { label: 'Significant', why: 'Marginal: the decisive modifier problem overlooked' };
    }
    case 'Trivial':
      if (product.relation === 'same_category') return { label: 'Irrelevant', why: 'Trivial: only the category is shared; called unrelated' };
      return { label: 'Marginal', why: `Trivial: a related type (${product.relation}) taken for the product` };
    case 'Irrelevant':
      return { label: 'Trivial', why: 'Irrelevant: an unrelated type read as related' };
  }
}

/** label′ for `pair` (annotated `pair.label`) in `scheme`, with the rule that chose it. Always ≠ the annotation. */
export function explainConfusable(pair: PairRecord, scheme: LabelScheme): ConfusableAnswer {
  const gold = pair.label;
  const g = labelIndex(scheme, gold);
  if (scheme.id !== 'lref5') return neighbourConfusable(scheme, gold);
  const grade = ruleGrade(pair);
  if (grade === undefined) return neighbourConfusable(scheme, gold);
  const distance = Math.abs(labelIndex(scheme, grade.label) - g);
  if (distance === 0) return slipFrom(grade);
  if (distance === 1) return { label: grade.label, why: `the rules grade it ${grade.label}: the annotation looks like the slip` };
  return neighbourConfusable(scheme, gold);
}

export function confusableLabel(pair: PairRecord, scheme: LabelScheme): string {
  return explainConfusable(pair, scheme).label;
}

/**
 * The rule teacher's MS part, shaped as the Teacher interface's `confusableLabel` so a stage can take
 * either it or an LLM teacher. It writes no rationales (a rule rationale teacher is a separate
 * piece); spread it into one: `{ ...rationaleTeacher, confusableLabel: ruleConfusableTeacher.confusableLabel }`.
 */
export const ruleConfusableTeacher: Required<Pick<Teacher, 'id' | 'confusableLabel'>> = {
  id: 'rules',
  async confusableLabel(req: ConfusableRequest): Promise<string> {
    return confusableLabel(req.gold === req.pair.label ? req.pair : { ...req.pair, label: req.gold }, req.scheme);
  },
};
