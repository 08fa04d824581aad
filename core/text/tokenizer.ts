import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { SCHEMES, type LabelScheme } from '../data/labels.ts';
import { learnMerges, mergeWord, pairKey, MAX_SYMBOLS, type Merge } from './bpe-train.ts';

/**
 * A byte-level BPE tokenizer (GPT-2 style), written here rather than borrowed so that it trains in
 * the workbench on the user's own data and serialises to one small JSON file.
 *
 * Id layout (fixed, so a checkpoint's embedding rows mean the same thing after reload):
 *   0 … S-1          special tokens: <pad> (always 0), layout tokens, then one <L:label> per label
 *   S … S+255        the 256 raw bytes
 *   S+256 …          merges, in the order they were learnt
 * Every string is representable (bytes), so there is no <unk>.
 *
 * Specials are single ids that plain text never produces: `encode(text)` treats "<eos>" typed by a
 * user as the five characters it is. Only `encode(text, {allowSpecial: true})` maps the literals.
 */

/** Prompt-layout tokens; templates place them (see prompts.ts). `<pad>` must stay first (id 0). */
export const DEFAULT_SPECIAL_TOKENS = [
  '<pad>',
  '<bos>',
  '<eos>',
  '<sep>',
  '<query>',
  '<product>',
  '<answer>',
  '<rationale>',
  '<rules>',
  '<wrong>',
  '<hl>', // marks a term shared by query and product (prompts.ts highlightSharedTerms)
] as const;

/** The special token that stands for one label, e.g. "<L:Exact>". One per label name, shared by schemes. */
export function labelToken(label: string): string {
  return `<L:${label}>`;
}

/** Every label name of every built-in scheme, in first-seen order: the default label tokens. */
export function allSchemeLabels(): string[] {
  const seen = new Set<string>();
  for (const s of Object.values(SCHEMES)) for (const l of s.labels) seen.add(l);
  return [...seen];
}

/**
 * Pre-tokenisation: GPT-2's split (contractions, a space glued to the following word, letters,
 * digits, other symbols, whitespace runs), except that digits go in runs of at most three so
 * model numbers and sizes do not each become a rare whole-number token (as in later GPT tokenizers).
 * The alternatives cover every code point, so the pieces concatenate back to the input.
 */
const PRETOKEN = /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
export const PRETOKENIZER_ID = 'gpt2-digits3';

/** Applied to plain text (never to special literals) before pre-tokenisation. */
export function normalizeText(text: string, normalize: 'none' | 'lower'): string {
  return normalize === 'lower' ? text.toLowerCase() : text;
}

export function pretokenize(text: string): string[] {
  return text.match(PRETOKEN) ?? [];
}

export const TokenizerJson = z
  .object({
    version: z.literal(1),
    type: z.literal('byte-bpe'),
    pretokenizer: z.literal(PRETOKENIZER_ID),
    /** literals in id order; [0] is "<pad>"; label tokens are the ones shaped "<L:name>" */
    special_tokens: z.array(z.string().min(1)).min(1),
    /** internal ids (0–255 bytes, 256+r merge r) of each merge's two parts */
    merges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
    /**
     * 'lower': plain text is lower-cased before encoding (BERT-uncased style). A small model
     * then sees "Red" in a title and "red" in a query as the same token, which it otherwise has
     * to learn to match; decode() gives the lower-cased text back. Absent = 'none'.
     */
    normalize: z.enum(['none', 'lower']).optional(),
  })
  .strict();
export type TokenizerJson = z.infer<typeof TokenizerJson>;

export interface TrainOptions {
  /** total vocabulary size including specials and the 256 bytes; fewer when the corpus runs out of pairs */
  vocabSize: number;
  /** layout tokens; default DEFAULT_SPECIAL_TOKENS. "<pad>" is put first if missing. */
  specialTokens?: readonly string[];
  /** label *names* (not literals); default every label of every built-in scheme */
  labelTokens?: readonly string[];
  /** stop merging when the best pair is rarer than this (default 1: merge until vocabSize) */
  minFrequency?: number;
  /** 'lower' lower-cases plain text before training and encoding (see TokenizerJson.normalize) */
  normalize?: Normalize;
}

export type Normalize = 'none' | 'lower';

export interface EncodeOptions {
  /** map special-token literals in `text` to their ids (default false: they are plain text) */
  allowSpecial?: boolean;
}

/** Per-word cache bound: product text has a long tail of words; clear rather than grow without end. */
const CACHE_LIMIT = 100_000;

export class Tokenizer {
  private readonly specials: readonly string[];
  private readonly specialIds: ReadonlyMap<string, number>;
  private readonly merges: readonly Merge[];
  private readonly ranks: ReadonlyMap<number, number>;
  /** the bytes each internal id stands for */
  private readonly bytes: readonly Uint8Array[];
  private readonly specialSplit: RegExp;
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextEncoder();
  private readonly utf8Decoder = new TextDecoder('utf-8');

  private constructor(
    specials: readonly string[],
    merges: readonly Merge[],
    readonly normalize: Normalize = 'none',
  ) {
    validateSpecials(specials);
    this.specials = specials;
    this.specialIds = new Map(specials.map((s, i) => [s, i]));
    this.merges = merges;
    const ranks = new Map<number, number>();
    const bytes: Uint8Array[] = [];
    for (let b = 0; b < 256; b++) bytes.push(Uint8Array.of(b));
    merges.forEach(([l, r], rank) => {
      const id = 256 + rank;
      if (l >= id || r >= id) throw new UserError(`tokenizer merge ${rank} refers to id ${Math.max(l, r)}, not yet defined`);
      const k = pairKey(l, r);
      if (ranks.has(k)) throw new UserError(`tokenizer merge ${rank} repeats merge ${ranks.get(k)} (${l}, ${r})`);
      ranks.set(k, rank);
      const joined = new Uint8Array(bytes[l].length + bytes[r].length);
      joined.set(bytes[l]);
      joined.set(bytes[r], bytes[l].length);
      bytes.push(joined);
    });
    this.ranks = ranks;
    this.bytes = bytes;
    // Longest literal first so "<L:Exact>" is never cut short by a shorter literal that prefixes it.
    const alternatives = [...specials].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialSplit = new RegExp(`(${alternatives.join('|')})`, 'u');
  }

  /** Learns merges from `corpus` (deterministic: same strings → same tokenizer, in any order). */
  static train(corpus: Iterable<string>, options: TrainOptions): Tokenizer {
    const layout = options.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
    const labels = options.labelTokens ?? allSchemeLabels();
    const specials = dedupe(['<pad>', ...layout, ...labels.map(labelToken)]);
    const numMerges = options.vocabSize - specials.length - 256;
    if (!Number.isInteger(options.vocabSize) || numMerges < 0) {
      throw new UserError(
        `vocabSize ${options.vocabSize} is too small: it must be an integer ≥ ${specials.length + 256} ` +
          `(${specials.length} special tokens + 256 bytes)`,
      );
    }
    if (options.vocabSize - specials.length > MAX_SYMBOLS) throw new UserError(`vocabSize ${options.vocabSize} is too large`);
    const normalize = options.normalize ?? 'none';
    const wordCounts = new Map<string, number>();
    for (const text of corpus) {
      for (const w of pretokenize(normalizeText(text, normalize))) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
    return new Tokenizer(specials, learnMerges(wordCounts, numMerges, options.minFrequency ?? 1), normalize);
  }

  static fromJSON(json: unknown, source = 'tokenizer.json'): Tokenizer {
    const parsed = TokenizerJson.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return new Tokenizer(parsed.data.special_tokens, parsed.data.merges, parsed.data.normalize ?? 'none');
  }

  toJSON(): TokenizerJson {
    return {
      version: 1,
      type: 'byte-bpe',
      pretokenizer: PRETOKENIZER_ID,
      special_tokens: [...this.specials],
      merges: this.merges.map(([l, r]) => [l, r] as [number, number]),
      ...(this.normalize !== 'none' ? { normalize: this.normalize } : {}),
    };
  }

  get vocabSize(): number {
    return this.specials.length + 256 + this.merges.length;
  }

  get padId(): number {
    return 0;
  }
  get bosId(): number {
    return this.tokenId('<bos>');
  }
  get eosId(): number {
    return this.tokenId('<eos>');
  }

  /** All special literals in id order (layout and label tokens). */
  get specialTokens(): readonly string[] {
    return this.specials;
  }

  isSpecial(id: number): boolean {
    return id >= 0 && id < this.specials.length;
  }

  /** The id of a special literal such as "<eos>" or "<L:Exact>". */
  tokenId(special: string): number {
    const id = this.specialIds.get(special);
    if (id === undefined) {
      throw new UserError(`tokenizer has no special token ${special}; it has ${this.specials.join(' ')}`);
    }
    return id;
  }

  /** The label token ids of `scheme`, in the scheme's order (best → worst). */
  labelTokenIds(scheme: LabelScheme): number[] {
    const missing = scheme.labels.filter((l) => !this.specialIds.has(labelToken(l)));
    if (missing.length > 0) {
      throw new UserError(
        `tokenizer has no label token for ${missing.map(labelToken).join(', ')} (scheme ${scheme.id}); ` +
          'retrain it with these labels in labelTokens',
      );
    }
    return scheme.labels.map((l) => this.tokenId(labelToken(l)));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (!options.allowSpecial) {
      this.encodeOrdinary(text, out);
      return out;
    }
    // split() with a capture group keeps the separators at the odd indices.
    const parts = text.split(this.specialSplit);
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 1) out.push(this.specialIds.get(parts[i])!);
      else if (parts[i]) this.encodeOrdinary(parts[i], out);
    }
    return out;
  }

  /** Bytes of consecutive ordinary ids are decoded together, so multi-byte characters survive. */
  decode(ids: readonly number[]): string {
    let text = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length === 0) return;
      let len = 0;
      for (const id of run) len += this.bytes[id].length;
      const buf = new Uint8Array(len);
      let at = 0;
      for (const id of run) {
        buf.set(this.bytes[id], at);
        at += this.bytes[id].length;
      }
      text += this.utf8Decoder.decode(buf);
      run = [];
    };
    const s = this.specials.length;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new UserError(`token id ${id} is outside the vocabulary (0…${this.vocabSize - 1})`);
      }
      if (id < s) {
        flush();
        text += this.specials[id];
      } else {
        run.push(id - s);
      }
    }
    flush();
    return text;
  }

  /** One token as readable text (for inspecting tokenisation); partial UTF-8 shows as U+FFFD. */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  private encodeOrdinary(text: string, out: number[]): void {
    for (const word of pretokenize(normalizeText(text, this.normalize))) {
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.encodeWord(word);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Applies merges lowest rank first, as training learnt them; returns external ids. */
  private encodeWord(word: string): number[] {
    let syms = Array.from(this.utf8.encode(word));
    while (syms.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(pairKey(syms[i], syms[i + 1]));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      syms = mergeWord(syms, syms[best], syms[best + 1], 256 + bestRank);
    }
    const s = this.specials.length;
    return syms.map((id) => id + s);
  }
}

function validateSpecials(specials: readonly string[]): void {
  if (specials[0] !== '<pad>') throw new UserError(`the first special token must be <pad> (id 0), got ${specials[0]}`);
  const seen = new Set<string>();
  for (const s of specials) {
    if (!/^<[^<>\n]+>$/u.test(s)) throw new UserError(`special token ${JSON.stringify(s)} must look like <name> (no angle brackets or newlines inside)`);
    if (seen.has(s)) throw new UserError(`special token ${s} is listed twice`);
    seen.add(s);
  }
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
