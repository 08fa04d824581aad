/**
 * Byte-level BPE merge learning (Sennrich et al. 2016, as used by GPT-2), on *internal* ids:
 * 0–255 are the raw bytes, 256 + r is the symbol made by merge r. The Tokenizer shifts these ids
 * past its special tokens; this file knows nothing about specials, prompts or labels.
 *
 * Determinism: the winner of each round is the most frequent adjacent pair, ties broken by the
 * smaller (left id, right id). Neither depends on corpus order, so the same bag of words always
 * gives the same merges.
 *
 * Speed: counting every pair again after every merge is O(merges × corpus). Instead we keep pair
 * counts, an index pair → words that contain it, and a max-heap with lazy deletion, and only touch
 * the words a merge changes.
 */

export type Merge = readonly [left: number, right: number];

/** Ids stay below 2^20 (a million-symbol vocab), so a pair packs into one exact JS number. */
const PAIR_SHIFT = 2 ** 20;
export const MAX_SYMBOLS = PAIR_SHIFT;

export function pairKey(left: number, right: number): number {
  return left * PAIR_SHIFT + right;
}

interface Word {
  syms: number[];
  count: number;
}

/**
 * Learns up to `numMerges` merges from word frequencies (each word already pre-tokenised and
 * UTF-8 encoded). Stops early when no pair occurs at least `minFrequency` times.
 */
export function learnMerges(wordCounts: ReadonlyMap<string, number>, numMerges: number, minFrequency = 1): Merge[] {
  const encoder = new TextEncoder();
  const words: Word[] = [];
  for (const [w, count] of wordCounts) {
    const syms = Array.from(encoder.encode(w));
    if (syms.length > 1) words.push({ syms, count });
  }

  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (let wi = 0; wi < words.length; wi++) {
    const { syms, count } = words[wi];
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = pairKey(syms[i], syms[i + 1]);
      counts.set(k, (counts.get(k) ?? 0) + count);
      let set = where.get(k);
      if (!set) where.set(k, (set = new Set()));
      set.add(wi);
    }
  }
  const heap = new PairHeap();
  for (const [k, c] of counts) heap.push(c, k);

  const merges: Merge[] = [];
  while (merges.length < numMerges) {
    const top = heap.pop();
    if (!top) break;
    // Lazy deletion: an entry is live only if its count is still the pair's current count.
    if (counts.get(top.key) !== top.count) continue;
    if (top.count < minFrequency) break;
    const left = Math.floor(top.key / PAIR_SHIFT);
    const right = top.key % PAIR_SHIFT;
    const id = 256 + merges.length;
    merges.push([left, right]);

    const delta = new Map<number, number>();
    for (const wi of where.get(top.key) ?? []) {
      const word = words[wi];
      const merged = mergeWord(word.syms, left, right, id);
      if (merged === word.syms) continue; // stale index entry: the pair left this word earlier
      for (let i = 0; i + 1 < word.syms.length; i++) {
        const k = pairKey(word.syms[i], word.syms[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) - word.count);
      }
      for (let i = 0; i + 1 < merged.length; i++) {
        const k = pairKey(merged[i], merged[i + 1]);
        delta.set(k, (delta.get(k) ?? 0) + word.count);
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(wi);
      }
      word.syms = merged;
    }
    where.delete(top.key);
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (counts.get(k) ?? 0) + d;
      if (c > 0) {
        counts.set(k, c);
        heap.push(c, k);
      } else {
        counts.delete(k);
      }
    }
  }
  return merges;
}

/**
 * Replaces every non-overlapping (left, right) in `syms`, scanning left to right, by `id`.
 * Returns the same array object when nothing matched (callers use that as "unchanged").
 */
export function mergeWord(syms: number[], left: number, right: number, id: number): number[] {
  let out: number[] | undefined;
  for (let i = 0; i < syms.length; i++) {
    if (i + 1 < syms.length && syms[i] === left && syms[i + 1] === right) {
      out ??= syms.slice(0, i);
      out.push(id);
      i++;
    } else if (out) {
      out.push(syms[i]);
    }
  }
  return out ?? syms;
}

/** Max-heap on (count desc, key asc): a total order, so pops are deterministic. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { count: number; key: number } | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const top = { count: this.counts[0], key: this.keys[0] };
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.counts.length && this.before(l, best)) best = l;
      if (r < this.counts.length && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const ca = this.counts[a];
    const cb = this.counts[b];
    return ca > cb || (ca === cb && this.keys[a] < this.keys[b]);
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b], this.counts[a]];
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
  }
}
