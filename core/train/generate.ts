import * as tf from '@tensorflow/tfjs-core';
import { KVCache, type DecoderLM } from '../model/gpt.ts';

/** One finished (or cut-off) continuation. */
export interface Beam {
  /** Generated token ids (the prompt is not repeated), including a stop token if one ended it. */
  tokens: number[];
  /** Σ log p of the generated tokens. */
  logProb: number;
  /** What beams are ranked by: logProb, or logProb / length^alpha when length-normalised. */
  score: number;
  /** True when a stop token ended it (false: max tokens or the context ran out). */
  finished: boolean;
}

export interface GenerateOptions {
  maxNewTokens: number;
  stopTokens?: number[];
  /** Decode with the KV cache (default) or by re-running the whole sequence every step. */
  useCache?: boolean;
}

export interface BeamOptions extends GenerateOptions {
  beamWidth: number;
  /** 0 ranks by raw log-prob; alpha > 0 by logProb / length^alpha (1 = per-token mean). */
  lengthPenalty?: number;
}

/**
 * Yields next-token log-probs [rows][V] for a growing set of sequences; either through the KV
 * cache (O(T) per token) or by recomputing the full prefix (O(T²), the reference the cache is
 * tested against).
 */
class Decoder {
  private cache: KVCache | undefined;
  private seqs: number[][] = [];

  constructor(
    private readonly model: DecoderLM,
    private readonly useCache: boolean,
  ) {}

  /** Starts from one prompt; returns its next-token log-probs. */
  start(prompt: number[]): Float32Array[] {
    this.seqs = [prompt.slice()];
    if (!this.useCache) return this.full();
    this.cache = new KVCache();
    return this.run(tf.tensor2d([prompt], [1, prompt.length], 'int32'));
  }

  /** Continues row parents[i] with token tokens[i]; returns the new rows' next-token log-probs. */
  extend(parents: number[], tokens: number[]): Float32Array[] {
    this.seqs = parents.map((p, i) => [...this.seqs[p], tokens[i]]);
    if (!this.useCache) return this.full();
    this.cache!.reorder(parents);
    return this.run(tf.tensor2d(tokens, [tokens.length, 1], 'int32'));
  }

  private run(ids: tf.Tensor2D): Float32Array[] {
    const logits = this.model.decode(ids, this.cache!);
    ids.dispose();
    return this.read(logits);
  }

  private full(): Float32Array[] {
    const T = this.seqs[0].length;
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(this.seqs.flat(), [this.seqs.length, T], 'int32');
      const all = this.model.forward(ids);
      return tf.reshape(tf.slice(all, [0, T - 1, 0], [-1, 1, -1]), [this.seqs.length, this.model.config.vocabSize]);
    }) as tf.Tensor2D;
    return this.read(logits);
  }

  private read(logits: tf.Tensor2D): Float32Array[] {
    const lp = tf.logSoftmax(logits);
    const flat = lp.dataSync() as Float32Array;
    tf.dispose([logits, lp]);
    const V = this.model.config.vocabSize;
    return Array.from({ length: flat.length / V }, (_, i) => flat.slice(i * V, (i + 1) * V));
  }

  dispose(): void {
    this.cache?.dispose();
  }
}

/** Length of continuation room left: the model cannot see past its context. */
function room(model: DecoderLM, prompt: number[], maxNewTokens: number): number {
  return Math.max(0, Math.min(maxNewTokens, model.config.contextLength - prompt.length));
}

function checkPrompt(model: DecoderLM, prompt: number[]): number[] {
  if (prompt.length === 0) throw new Error('generate: empty prompt');
  // Keep the end of an over-long prompt: it is what the next token depends on most.
  return prompt.length > model.config.contextLength ? prompt.slice(prompt.length - model.config.contextLength) : prompt;
}

/** Greedy decoding: the most probable token at every step (lowest id on ties). */
export function greedy(model: DecoderLM, prompt: number[], opts: GenerateOptions): Beam {
  prompt = checkPrompt(model, prompt);
  const stops = new Set(opts.stopTokens ?? []);
  const dec = new Decoder(model, opts.useCache ?? true);
  const tokens: number[] = [];
  let logProb = 0;
  let finished = false;
  try {
    const n = room(model, prompt, opts.maxNewTokens);
    let lp = n > 0 ? dec.start(prompt)[0] : undefined;
    for (let i = 0; i < n && lp; i++) {
      let best = 0;
      for (let v = 1; v < lp.length; v++) if (lp[v] > lp[best]) best = v;
      tokens.push(best);
      logProb += lp[best];
      if (stops.has(best)) {
        finished = true;
        break;
      }
      if (i + 1 < n) lp = dec.extend([0], [best])[0];
    }
  } finally {
    dec.dispose();
  }
  return { tokens, logProb, score: logProb, finished };
}

/**
 * Beam search. Every step expands each live beam, keeps the `beamWidth` best continuations by
 * raw log-prob; one that ends in a stop token is set aside as finished. Stops when `beamWidth`
 * beams have finished or tokens run out; returns finished beams (then unfinished ones if needed)
 * ranked by score, best first, at most beamWidth of them.
 */
export function beamSearch(model: DecoderLM, prompt: number[], opts: BeamOptions): Beam[] {
  prompt = checkPrompt(model, prompt);
  const K = opts.beamWidth;
  if (!(K >= 1)) throw new Error('beamSearch: beamWidth must be ≥ 1');
  const stops = new Set(opts.stopTokens ?? []);
  const alpha = opts.lengthPenalty ?? 0;
  const score = (logProb: number, len: number) => (alpha > 0 ? logProb / Math.max(1, len) ** alpha : logProb);
  const n = room(model, prompt, opts.maxNewTokens);
  const dec = new Decoder(model, opts.useCache ?? true);
  const done: Beam[] = [];
  let live: { tokens: number[]; logProb: number }[] = [{ tokens: [], logProb: 0 }];
  try {
    let lps = n > 0 ? dec.start(prompt) : [];
    for (let step = 0; step < n && live.length > 0; step++) {
      // Candidates: the top K tokens of each live beam suffice for the top K overall.
      const cands: { parent: number; token: number; logProb: number }[] = [];
      live.forEach((b, parent) => {
        const lp = lps[parent];
        for (const token of topK(lp, K)) cands.push({ parent, token, logProb: b.logProb + lp[token] });
      });
      cands.sort((a, b) => b.logProb - a.logProb || a.parent - b.parent || a.token - b.token);
      const next: { parent: number; token: number; logProb: number }[] = [];
      for (const c of cands) {
        if (next.length >= K || done.length >= K) break;
        const tokens = [...live[c.parent].tokens, c.token];
        if (stops.has(c.token)) done.push({ tokens, logProb: c.logProb, score: score(c.logProb, tokens.length), finished: true });
        else next.push(c);
      }
      if (done.length >= K || step + 1 === n) {
        live = next.map((c) => ({ tokens: [...live[c.parent].tokens, c.token], logProb: c.logProb }));
        break;
      }
      lps = dec.extend(
        next.map((c) => c.parent),
        next.map((c) => c.token),
      );
      live = next.map((c) => ({ tokens: [...live[c.parent].tokens, c.token], logProb: c.logProb }));
    }
  } finally {
    dec.dispose();
  }
  const cut = live.map((b) => ({ ...b, score: score(b.logProb, b.tokens.length), finished: false }));
  const rank = (a: Beam, b: Beam) => b.score - a.score;
  const finished = done.sort(rank);
  return finished.length >= K ? finished.slice(0, K) : [...finished, ...cut.sort(rank)].slice(0, K);
}

/** Indices of the k largest values (lowest index first among equals). */
function topK(values: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let v = 0; v < values.length; v++) {
    if (idx.length < k) {
      idx.push(v);
      idx.sort((a, b) => values[b] - values[a] || a - b);
    } else if (values[v] > values[idx[k - 1]]) {
      idx[k - 1] = v;
      idx.sort((a, b) => values[b] - values[a] || a - b);
    }
  }
  return idx;
}
