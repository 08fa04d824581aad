import { basename, resolve } from 'node:path';
import type { PairRecord } from '../data/schema.ts';
import type { CotPrediction } from '../stages/cot-predict.ts';
import { encodeHFPrompt, loadExportedJudge, predictHF, type HFRelevanceModel, type JudgeCard } from '../stages/hf-relevance.ts';
import type { LabelPrediction } from '../stages/relevance-model.ts';
import type { RelevancePair } from './protocol.ts';
import type { ServedJudge } from './judge.ts';

/**
 * An exported imported model (`lref model export`: merged LoRA weights + lref-judge.json) behind
 * `lref serve`: grades by scoring the grade tokens, as predictHF does in training and eval.
 * Label-only: it writes no rationale.
 */
export class HFJudge implements ServedJudge {
  readonly writesRationale = false;
  readonly info: { scheme: string };

  private constructor(
    readonly dir: string,
    readonly rm: HFRelevanceModel & { card: JudgeCard },
  ) {
    this.info = { scheme: rm.card.scheme };
  }

  static load(dir: string): HFJudge {
    return new HFJudge(dir, loadExportedJudge(dir));
  }

  get name(): string {
    return basename(resolve(this.dir));
  }

  toPair(p: RelevancePair, i: number): PairRecord {
    return { pair_id: `req-${i}`, query_id: 'q', query: p.query, product_id: 'p', title: p.title, label: this.rm.scheme.labels[0] };
  }

  score(pairs: readonly PairRecord[], batchSize: number): LabelPrediction[] {
    return predictHF(this.rm, pairs, batchSize);
  }

  generate(): CotPrediction[] | undefined {
    return undefined;
  }

  promptTokens(pair: PairRecord): number {
    return encodeHFPrompt(this.rm, pair).length;
  }

  dispose(): void {
    this.rm.model.dispose();
  }
}
