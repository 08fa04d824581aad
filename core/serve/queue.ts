import type { PairRecord } from '../data/schema.ts';
import type { CotPrediction } from '../stages/cot-predict.ts';
import type { LabelPrediction } from '../stages/relevance-model.ts';

/**
 * The one queue between HTTP requests and the model. The model computes synchronously on the event
 * loop, one job at a time; between jobs the loop yields (setImmediate), so requests that arrived
 * meanwhile are queued and the next scoring step takes every queued scoring request at once, up to
 * `maxBatchPairs` pairs, in one forward pass. Under light load a request runs alone at once; under
 * heavy load the batches grow, which is where batching pays. Generation requests queued together
 * with the same token limit are likewise decoded as one batch (generate.ts: the same outputs as
 * alone). Bounded: a request that finds
 * `maxQueue` jobs waiting is refused (the server answers 429) instead of growing memory.
 */

export interface Model {
  score(pairs: readonly PairRecord[], batchSize: number): LabelPrediction[];
  generate(pairs: readonly PairRecord[], maxNewTokens: number): CotPrediction[] | undefined;
}

export class QueueFullError extends Error {
  constructor(readonly limit: number) {
    super(`the server's queue is full (${limit} requests waiting); retry later`);
  }
}

type Job =
  | { kind: 'score'; pairs: readonly PairRecord[]; resolve: (r: LabelPrediction[]) => void; reject: (e: unknown) => void }
  | { kind: 'generate'; pairs: readonly PairRecord[]; maxNewTokens: number; resolve: (r: CotPrediction[] | undefined) => void; reject: (e: unknown) => void };

export interface QueueStats {
  waiting: number;
  running: boolean;
  /** scoring forward passes run, pairs scored in them, and the largest batch */
  batches: number;
  scoredPairs: number;
  maxBatch: number;
  generated: number;
  refused: number;
}

export class WorkQueue {
  private readonly jobs: Job[] = [];
  private scheduled = false;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: Omit<QueueStats, 'waiting' | 'running'> = { batches: 0, scoredPairs: 0, maxBatch: 0, generated: 0, refused: 0 };

  constructor(
    private readonly model: Model,
    private readonly opts: { maxQueue: number; maxBatchPairs: number },
  ) {}

  score(pairs: readonly PairRecord[]): Promise<LabelPrediction[]> {
    return new Promise((resolve, reject) => this.push({ kind: 'score', pairs, resolve, reject }));
  }

  generate(pairs: readonly PairRecord[], maxNewTokens: number): Promise<CotPrediction[] | undefined> {
    return new Promise((resolve, reject) => this.push({ kind: 'generate', pairs, maxNewTokens, resolve, reject }));
  }

  snapshot(): QueueStats {
    return { waiting: this.jobs.length, running: this.running, ...this.stats };
  }

  /** Resolves when no job is waiting or running (graceful shutdown waits on this). */
  idle(): Promise<void> {
    if (this.jobs.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(job: Job): void {
    if (this.jobs.length >= this.opts.maxQueue) {
      this.stats.refused++;
      job.reject(new QueueFullError(this.opts.maxQueue));
      return;
    }
    this.jobs.push(job);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  private step(): void {
    const first = this.jobs.shift();
    if (!first) return this.notifyIdle();
    this.running = true;
    try {
      if (first.kind === 'generate') {
        // Generation requests right behind with the same token limit, while the batch has room: decoded together.
        const batch = [first];
        let n = first.pairs.length;
        while (this.jobs.length > 0) {
          const next = this.jobs[0];
          if (next.kind !== 'generate' || next.maxNewTokens !== first.maxNewTokens || n + next.pairs.length > this.opts.maxBatchPairs) break;
          batch.push(this.jobs.shift() as Extract<Job, { kind: 'generate' }>);
          n += next.pairs.length;
        }
        this.runGenerate(batch);
      } else {
        // Every scoring job queued right behind, while the batch has room: one forward pass for all.
        const batch = [first];
        let n = first.pairs.length;
        while (this.jobs.length > 0 && this.jobs[0].kind === 'score' && n + this.jobs[0].pairs.length <= this.opts.maxBatchPairs) {
          const next = this.jobs.shift() as Extract<Job, { kind: 'score' }>;
          batch.push(next);
          n += next.pairs.length;
        }
        this.runScore(batch, n);
      }
    } finally {
      this.running = false;
    }
    if (this.jobs.length > 0) this.schedule();
    else this.notifyIdle();
  }

  private runScore(batch: Extract<Job, { kind: 'score' }>[], n: number): void {
    let preds: LabelPrediction[];
    try {
      preds = this.model.score(batch.flatMap((j) => j.pairs), Math.max(n, 1));
    } catch (err) {
      for (const j of batch) j.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.scoredPairs += n;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, n);
    let at = 0;
    for (const j of batch) {
      j.resolve(preds.slice(at, at + j.pairs.length));
      at += j.pairs.length;
    }
  }

  private runGenerate(batch: Extract<Job, { kind: 'generate' }>[]): void {
    let out: CotPrediction[] | undefined;
    try {
      out = this.model.generate(batch.flatMap((j) => j.pairs), batch[0].maxNewTokens);
    } catch (err) {
      for (const j of batch) j.reject(err);
      return;
    }
    let at = 0;
    for (const j of batch) {
      this.stats.generated += j.pairs.length;
      j.resolve(out?.slice(at, at + j.pairs.length));
      at += j.pairs.length;
    }
  }

  private notifyIdle(): void {
    if (this.jobs.length > 0 || this.running) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
