import { join } from 'node:path';
import type { PairRecord } from '../data/schema.ts';
import { BUNDLE_FILES, readBundleInfo, verifyBundle, type BundleInfo } from '../export/bundle.ts';
import { predictWithRationale, type CotPrediction } from '../stages/cot-predict.ts';
import { loadRelevanceModel, predictLabels, type LabelPrediction, type RelevanceModel } from '../stages/relevance-model.ts';
import { UserError } from '../util/errors.ts';
import type { RelevancePair } from './protocol.ts';

/**
 * What `lref serve` needs of a model: a bundle's (BundleJudge) or an exported imported model's
 * (HFJudge in hf-judge.ts).
 */
export interface ServedJudge {
  readonly name: string;
  readonly info: { scheme: string };
  readonly rm: { scheme: RelevanceModel['scheme']; tokenizer: { encode(text: string): number[] } };
  readonly writesRationale: boolean;
  toPair(p: RelevancePair, i: number): PairRecord;
  score(pairs: readonly PairRecord[], batchSize: number): LabelPrediction[];
  generate(pairs: readonly PairRecord[], maxNewTokens: number): CotPrediction[] | undefined;
  promptTokens(pair: PairRecord): number;
  dispose(): void;
}

/**
 * A bundle's model behind `lref serve`: grading by scoring the label tokens at the answer position
 * (predictLabels — the same call `lref eval` makes, so a pair gets the same grade and probabilities
 * from both), and generation of rationale + grade for CoT variants (predictWithRationale, as the
 * pipeline evaluates them). Label-only variants write no rationale.
 */
export class BundleJudge implements ServedJudge {
  private constructor(
    readonly dir: string,
    readonly info: BundleInfo,
    readonly rm: RelevanceModel,
  ) {}

  /** Verifies the manifest (a tampered or half-copied bundle is refused), then loads the model. */
  static load(dir: string): BundleJudge {
    const check = verifyBundle(dir);
    if (!check.ok) throw new UserError(`${dir}: the bundle does not match its manifest: ${check.problems.slice(0, 5).join('; ')}`);
    const info = readBundleInfo(dir);
    const rm = loadRelevanceModel(join(dir, BUNDLE_FILES.model));
    return new BundleJudge(dir, info, rm);
  }

  get name(): string {
    return this.info.name;
  }

  get writesRationale(): boolean {
    return this.rm.template.kind !== 'label';
  }

  /** An API pair as the canonical record the prompt templates read (ids and label are placeholders). */
  toPair(p: RelevancePair, i: number): PairRecord {
    const attributes = { ...(p.attributes ?? {}), ...(p.color !== undefined ? { color: p.color } : {}) };
    return {
      pair_id: `req-${i}`,
      query_id: 'q',
      query: p.query,
      product_id: 'p',
      title: p.title,
      ...(p.brand ? { brand: p.brand } : {}),
      ...(p.category ? { category: p.category } : {}),
      ...(p.description ? { description: p.description } : {}),
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      label: this.rm.scheme.labels[0],
    };
  }

  /** One forward pass per `batchSize` prompts. */
  score(pairs: readonly PairRecord[], batchSize: number): LabelPrediction[] {
    return predictLabels(this.rm, pairs, batchSize);
  }

  /** CoT variants: rationale + grade by greedy decoding; undefined for label-only variants. */
  generate(pairs: readonly PairRecord[], maxNewTokens: number): CotPrediction[] | undefined {
    if (!this.writesRationale) return undefined;
    return predictWithRationale(this.rm, pairs, { maxNewTokens });
  }

  /** Tokens of a pair's prompt (for the usage figures of a chat completion). */
  promptTokens(pair: PairRecord): number {
    return this.rm.tokenizer.encode(pair.query + ' ' + pair.title).length;
  }

  dispose(): void {
    this.rm.model.dispose();
  }
}
