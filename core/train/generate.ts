import * as tf from '@tensorflow/tfjs-core';
import { KVCache } from '../model/gpt.ts';
import type { CausalLM } from '../model/lm.ts';
import { UnaryOp, loadNativeAddon } from '../model/native-addon.ts';
import { onNative } from '../model/native-ops.ts';

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
    private readonly model: CausalLM,
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
    return readLogProbs(logits, this.model.config.vocabSize);
  }

  dispose(): void {
    this.cache?.dispose();
  }
}

/** Length of continuation room left: the model cannot see past its context. */
function room(model: CausalLM, prompt: number[], maxNewTokens: number): number {
  return Math.max(0, Math.min(maxNewTokens, model.config.contextLength - prompt.length));
}

function checkPrompt(model: CausalLM, prompt: number[]): number[] {
  if (prompt.length === 0) throw new Error('generate: empty prompt');
  // Keep the end of an over-long prompt: it is what the next token depends on most.
  return prompt.length > model.config.contextLength ? prompt.slice(prompt.length - model.config.contextLength) : prompt;
}

/** Greedy decoding: the most probable token at every step (lowest id on ties). */
export function greedy(model: CausalLM, prompt: number[], opts: GenerateOptions): Beam {
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
export function beamSearch(model: CausalLM, prompt: number[], opts: BeamOptions): Beam[] {
  prompt = checkPrompt(model, prompt);
  const rules = beamRules(opts);
  const n = room(model, prompt, opts.maxNewTokens);
  const dec = new Decoder(model, opts.useCache ?? true);
  const done: Beam[] = [];
  let live: LiveBeam[] = [{ tokens: [], logProb: 0 }];
  try {
    let lps = n > 0 ? dec.start(prompt) : [];
    for (let step = 0; step < n && live.length > 0; step++) {
      const next = selectBeams(live, lps, done, rules);
      if (done.length >= rules.K || step + 1 === n) {
        live = grow(live, next);
        break;
      }
      lps = dec.extend(
        next.map((c) => c.parent),
        next.map((c) => c.token),
      );
      live = grow(live, next);
    }
  } finally {
    dec.dispose();
  }
  return rankBeams(done, live, rules);
}

interface LiveBeam {
  tokens: number[];
  logProb: number;
}
interface Candidate {
  parent: number;
  token: number;
  logProb: number;
}
interface BeamRules {
  K: number;
  stops: Set<number>;
  score: (logProb: number, len: number) => number;
}

function beamRules(opts: BeamOptions): BeamRules {
  const K = opts.beamWidth;
  if (!(K >= 1)) throw new Error('beamSearch: beamWidth must be ≥ 1');
  const alpha = opts.lengthPenalty ?? 0;
  return { K, stops: new Set(opts.stopTokens ?? []), score: (logProb, len) => (alpha > 0 ? logProb / Math.max(1, len) ** alpha : logProb) };
}

/**
 * One beam step: expands each live beam (row lps[i]) and keeps the K best continuations by raw
 * log-prob; one that ends in a stop token goes to `done` instead. Returns the kept ones.
 */
function selectBeams(live: LiveBeam[], lps: Float32Array[], done: Beam[], { K, stops, score }: BeamRules): Candidate[] {
  // Candidates: the top K tokens of each live beam suffice for the top K overall.
  const cands: Candidate[] = [];
  live.forEach((b, parent) => {
    const lp = lps[parent];
    for (const token of topK(lp, K)) cands.push({ parent, token, logProb: b.logProb + lp[token] });
  });
  cands.sort((a, b) => b.logProb - a.logProb || a.parent - b.parent || a.token - b.token);
  const next: Candidate[] = [];
  for (const c of cands) {
    if (next.length >= K || done.length >= K) break;
    const tokens = [...live[c.parent].tokens, c.token];
    if (stops.has(c.token)) done.push({ tokens, logProb: c.logProb, score: score(c.logProb, tokens.length), finished: true });
    else next.push(c);
  }
  return next;
}

function grow(live: LiveBeam[], next: Candidate[]): LiveBeam[] {
  return next.map((c) => ({ tokens: [...live[c.parent].tokens, c.token], logProb: c.logProb }));
}

/** Finished beams by score, then unfinished ones if fewer than K finished; at most K. */
function rankBeams(done: Beam[], live: LiveBeam[], { K, score }: BeamRules): Beam[] {
  const cut = live.map((b) => ({ ...b, score: score(b.logProb, b.tokens.length), finished: false }));
  const rank = (a: Beam, b: Beam) => b.score - a.score;
  const finished = done.sort(rank);
  return finished.length >= K ? finished.slice(0, K) : [...finished, ...cut.sort(rank)].slice(0, K);
}

// ------------------------------------------------------------------------------------------------
// Batched decoding: many prompts decoded together, one row per prompt (per beam), in a ragged KV
// cache (each row at its own position; see KVCache). The prompts are prefilled together,
// right-padded (causal attention: a prompt's tokens never see the padding after them), so a row's
// numbers are those of decoding it alone: the outputs equal greedy()/beamSearch() token for token.

export interface BatchOptions {
  /** Rows decoded together at most (prompts for greedy, prompts × beamWidth for beams); default 32. */
  rows?: number;
}

/** Prefill groups stay below these padded tokens and rows·T² score entries (attention's memory). */
const PREFILL_TOKENS = 8192;
const PREFILL_SCORES = 1 << 21;

/** Decodes rows of many prompts through one ragged KV cache; a finished row is dropped from it. */
class BatchDecoder {
  private cache: KVCache | undefined;

  constructor(private readonly model: CausalLM) {}

  /**
   * Prefills the prompts (in groups of similar length, each one right-padded forward), then makes
   * their caches one ragged cache with room for `newTokens[i]` more tokens on row i; returns each
   * prompt's next-token log-probs.
   */
  start(prompts: number[][], newTokens: number[]): Float32Array[] {
    const caches: KVCache[] = [];
    const out: Float32Array[] = [];
    try {
      for (const group of prefillGroups(prompts)) {
        const T = Math.max(...group.map((p) => p.length));
        const flat = new Int32Array(group.length * T); // padding: token 0, after each prompt
        group.forEach((p, b) => flat.set(p, b * T));
        const cache = new KVCache();
        caches.push(cache);
        const ids = tf.tensor2d(flat, [group.length, T], 'int32');
        try {
          out.push(...readLogProbs(this.model.decode(ids, cache, group.map((p) => p.length - 1)), this.model.config.vocabSize));
        } finally {
          ids.dispose();
        }
      }
    } catch (e) {
      for (const c of caches) c.dispose();
      throw e;
    }
    const lengths = prompts.map((p) => p.length);
    this.cache = KVCache.ragged(caches, lengths, Math.max(...lengths.map((n, i) => n + newTokens[i] - 1)));
    return out;
  }

  /** Keeps rows `parents` (repeats allowed), appends tokens[i] to row i; returns the rows' next-token log-probs. */
  extend(parents: number[], tokens: number[]): Float32Array[] {
    this.cache!.reorder(parents);
    const ids = tf.tensor2d(tokens, [tokens.length, 1], 'int32');
    try {
      return readLogProbs(this.model.decode(ids, this.cache!), this.model.config.vocabSize);
    } finally {
      ids.dispose();
    }
  }

  dispose(): void {
    this.cache?.dispose();
  }
}

/** Consecutive runs of prompts whose padded prefill stays within PREFILL_TOKENS / PREFILL_SCORES (at least one each). */
function prefillGroups(prompts: number[][]): number[][][] {
  const groups: number[][][] = [];
  let group: number[][] = [];
  let T = 0;
  for (const p of prompts) {
    const t = Math.max(T, p.length);
    const n = group.length + 1;
    if (group.length > 0 && (n * t > PREFILL_TOKENS || n * t * t > PREFILL_SCORES)) {
      groups.push(group);
      group = [];
    }
    T = group.length === 0 ? p.length : t;
    group.push(p);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Chunks of at most `size` prompt indices, shortest prompts first: a chunk's prompts then pad
 * little in the prefill and their rows reserve similar room. Rows do not affect each other, so
 * the order changes no output.
 */
function chunksByLength(prompts: readonly number[][], size: number): number[][] {
  const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += size) out.push(order.slice(i, i + size));
  return out;
}

/**
 * Row-wise log-softmax of logits [N,V], read out, one Float32Array per row (disposes the logits).
 * On the read values, not as tf.logSoftmax: its six small kernels cost more per decode step than
 * the arithmetic. x − max − log Σ exp(x − max), the sum in double; the exps in one vectorised
 * addon call on 'lref-native' (Math.exp per value was a fifth of a tiny-preset decode step).
 */
export function readLogProbs(logits: tf.Tensor2D, V: number): Float32Array[] {
  const x = logits.dataSync() as Float32Array;
  const shifted = new Float32Array(x.length);
  for (let at = 0; at < x.length; at += V) {
    let max = -Infinity;
    for (let v = at; v < at + V; v++) if (x[v] > max) max = x[v];
    for (let v = at; v < at + V; v++) shifted[v] = x[v] - max;
  }
  logits.dispose();
  const addon = onNative() ? loadNativeAddon() : undefined;
  let e = shifted;
  if (addon?.available) {
    e = new Float32Array(x.length);
    addon.addon.unary(UnaryOp.exp, shifted, e);
  }
  // Rows are views of one array, written in place (callers only read them).
  const rows: Float32Array[] = [];
  for (let at = 0; at < x.length; at += V) {
    let sum = 0;
    if (e === shifted) for (let v = at; v < at + V; v++) sum += Math.exp(shifted[v]);
    else for (let v = at; v < at + V; v++) sum += e[v];
    const logSum = Math.log(sum);
    for (let v = at; v < at + V; v++) shifted[v] -= logSum;
    rows.push(shifted.subarray(at, at + V));
  }
  return rows;
}

function rowsOf(opts: BatchOptions): number {
  const rows = opts.rows ?? 32;
  if (!(Number.isInteger(rows) && rows >= 1)) throw new Error(`generate: rows must be a whole number ≥ 1, got ${rows}`);
  return rows;
}

/** greedy() for every prompt, decoded `rows` prompts at a time; the same outputs, in prompt order. */
export function greedyBatch(model: CausalLM, prompts: readonly number[][], opts: GenerateOptions & BatchOptions): Beam[] {
  if (opts.useCache === false) return prompts.map((p) => greedy(model, p, opts));
  const out: Beam[] = new Array<Beam>(prompts.length);
  for (const idx of chunksByLength(prompts, rowsOf(opts))) {
    greedyChunk(model, idx.map((i) => prompts[i]), opts).forEach((b, j) => (out[idx[j]] = b));
  }
  return out;
}

function greedyChunk(model: CausalLM, prompts: number[][], opts: GenerateOptions): Beam[] {
  const ps = prompts.map((p) => checkPrompt(model, p));
  const stops = new Set(opts.stopTokens ?? []);
  const res: Beam[] = ps.map(() => ({ tokens: [], logProb: 0, score: 0, finished: false }));
  const ns = ps.map((p) => room(model, p, opts.maxNewTokens));
  let active = ps.map((_, i) => i).filter((i) => ns[i] > 0);
  const dec = new BatchDecoder(model);
  try {
    let lps = active.length > 0 ? dec.start(active.map((i) => ps[i]), active.map((i) => ns[i])) : [];
    for (let step = 0; active.length > 0; step++) {
      const keep: number[] = [];
      const tokens: number[] = [];
      active.forEach((pi, r) => {
        const lp = lps[r];
        let best = 0;
        for (let v = 1; v < lp.length; v++) if (lp[v] > lp[best]) best = v;
        res[pi].tokens.push(best);
        res[pi].logProb += lp[best];
        if (stops.has(best)) res[pi].finished = true;
        else if (step + 1 < ns[pi]) {
          keep.push(r);
          tokens.push(best);
        }
      });
      active = keep.map((r) => active[r]);
      if (active.length > 0) lps = dec.extend(keep, tokens);
    }
  } finally {
    dec.dispose();
  }
  for (const r of res) r.score = r.logProb;
  return res;
}

/** beamSearch() for every prompt, floor(rows / beamWidth) prompts at a time; the same beams, in prompt order. */
export function beamSearchBatch(model: CausalLM, prompts: readonly number[][], opts: BeamOptions & BatchOptions): Beam[][] {
  const rules = beamRules(opts);
  if (opts.useCache === false) return prompts.map((p) => beamSearch(model, p, opts));
  const out: Beam[][] = new Array<Beam[]>(prompts.length);
  for (const idx of chunksByLength(prompts, Math.max(1, Math.floor(rowsOf(opts) / rules.K)))) {
    beamChunk(model, idx.map((i) => prompts[i]), opts, rules).forEach((b, j) => (out[idx[j]] = b));
  }
  return out;
}

interface BeamGroup {
  n: number;
  done: Beam[];
  live: LiveBeam[];
  /** still decoding: its live beams are rows of the batch */
  open: boolean;
}

function beamChunk(model: CausalLM, prompts: number[][], opts: BeamOptions, rules: BeamRules): Beam[][] {
  const ps = prompts.map((p) => checkPrompt(model, p));
  const groups: BeamGroup[] = ps.map((p) => {
    const n = room(model, p, opts.maxNewTokens);
    return { n, done: [], live: [{ tokens: [], logProb: 0 }], open: n > 0 };
  });
  const dec = new BatchDecoder(model);
  try {
    // Rows of the batch, group by group in order: group g's live beams are rows at[g] .. at[g]+live-1.
    let order = groups.map((_, g) => g).filter((g) => groups[g].open);
    let lps = order.length > 0 ? dec.start(order.map((g) => ps[g]), order.map((g) => groups[g].n)) : [];
    for (let step = 0; order.length > 0; step++) {
      const parents: number[] = [];
      const tokens: number[] = [];
      const nextOrder: number[] = [];
      let at = 0;
      for (const g of order) {
        const grp = groups[g];
        const rows = lps.slice(at, at + grp.live.length);
        const next = selectBeams(grp.live, rows, grp.done, rules);
        if (!(grp.done.length >= rules.K || step + 1 === grp.n) && next.length > 0) {
          for (const c of next) {
            parents.push(at + c.parent);
            tokens.push(c.token);
          }
          nextOrder.push(g);
        } else grp.open = false;
        at += grp.live.length;
        grp.live = grow(grp.live, next);
      }
      order = nextOrder;
      if (order.length > 0) lps = dec.extend(parents, tokens);
    }
  } finally {
    dec.dispose();
  }
  return groups.map((grp) => rankBeams(grp.done, grp.live, rules));
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
