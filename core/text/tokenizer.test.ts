import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Rng } from '../util/rng.ts';
import { sharedDataPath } from '../util/paths.ts';
import { LREF5, ESCI4, type LabelScheme } from '../data/labels.ts';
import { learnMerges, mergeWord } from './bpe-train.ts';
import { Tokenizer, pretokenize, labelToken, DEFAULT_SPECIAL_TOKENS, allSchemeLabels } from './tokenizer.ts';

const WORDS = [
  'nike', 'adidas', 'running', 'shoes', 'women', 'men', 'red', 'blue', 'coffee', 'maker', 'stainless', 'steel',
  'phone', 'case', 'for', 'iphone', 'cordless', 'drill', 'with', 'battery', 'pack', 'of', 'kitchen', 'blender',
  'the', 'and', 'a', 'led', 'light', 'bulb', 'outdoor', 'patio', 'chair', 'wood', 'oz', 'in.', '18V', '2-pack',
];

/** Product-like strings from a seeded generator (never real data). */
function syntheticCorpus(n: number, seed = 1): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 2 + rng.int(8);
    const words: string[] = [];
    for (let j = 0; j < len; j++) words.push(rng.pick(WORDS));
    if (rng.chance(0.3)) words.push(String(rng.int(2000)));
    out.push(words.join(' '));
  }
  return out;
}

const corpus = syntheticCorpus(3000);
const tok = Tokenizer.train(corpus, { vocabSize: 512 });

describe('learnMerges', () => {
  it('learns the classic Sennrich example in the documented order', () => {
    // Words low×5, lower×2, newest×6, widest×3. Pair counts: (e,s)=6+3=9, (s,t)=9, (w,e)=2+6=8,
    // (l,o)=(o,w)=7, … Ties go to the smaller (left, right) byte pair:
    //  1. (e,s)=(101,115) beats (s,t)=(115,116), both 9            → id 256 "es"
    //  2. (es,t) = 6+3 = 9                                          → id 257 "est"
    //  3. (l,o)=(108,111) and (o,w)=(111,119) both 7; (l,o) smaller → id 258 "lo"
    //  4. (lo,w) = 5+2 = 7                                          → id 259 "low"
    //  5. (n,e), (e,w), (w,est) all 6 (from newest); (101,119) is the smallest → id 260 "ew"
    const counts = new Map([['low', 5], ['lower', 2], ['newest', 6], ['widest', 3]]);
    expect(learnMerges(counts, 5)).toEqual([[101, 115], [256, 116], [108, 111], [258, 119], [101, 119]]);
  });

  it('stops when pairs run out or fall below minFrequency', () => {
    // "ab"×1: one pair, one possible merge.
    expect(learnMerges(new Map([['ab', 1]]), 10)).toEqual([[97, 98]]);
    expect(learnMerges(new Map([['ab', 1]]), 10, 2)).toEqual([]);
  });

  it('merges non-overlapping pairs left to right', () => {
    // "aaa" with (a,a) → [aa, a], not [a, aa]
    expect(mergeWord([97, 97, 97], 97, 97, 256)).toEqual([256, 97]);
    const same = [1, 2, 3];
    expect(mergeWord(same, 7, 8, 256)).toBe(same);
  });
});

describe('pretokenize', () => {
  it('splits GPT-2 style and always concatenates back to the input', () => {
    expect(pretokenize("Nike's 18V drill, 12345 pcs  ok")).toEqual([
      'Nike', "'s", ' 18', 'V', ' drill', ',', ' 123', '45', ' pcs', ' ', ' ok',
    ]);
    const s = ' \t mixed—“quotes” 😀 e\u0301 中文 \r\n';
    expect(pretokenize(s).join('')).toBe(s);
  });
});

describe('Tokenizer', () => {
  it('lays out ids: <pad>=0, layout tokens, label tokens, then bytes and merges up to vocabSize', () => {
    expect(tok.vocabSize).toBe(512);
    expect(tok.tokenId('<pad>')).toBe(0);
    expect(tok.padId).toBe(0);
    DEFAULT_SPECIAL_TOKENS.forEach((s, i) => expect(tok.tokenId(s)).toBe(i));
    const labels = allSchemeLabels();
    // 11 layout tokens + 18 distinct labels over the built-in schemes
    expect(labels.length).toBe(18);
    expect(tok.specialTokens.length).toBe(29);
    expect(tok.labelTokenIds(LREF5)).toEqual([11, 12, 13, 14, 15]);
    expect(tok.decode(tok.labelTokenIds(ESCI4))).toBe('<L:E><L:S><L:C><L:I>');
    expect(() => tok.tokenId('<nope>')).toThrow(/no special token <nope>/);
  });

  it('names the missing labels when a scheme has no label tokens', () => {
    const small = Tokenizer.train(['x'], { vocabSize: 300, labelTokens: ['Yes'] });
    const scheme: LabelScheme = { id: 'yn', name: 'YN', labels: ['Yes', 'No'], meaning: { Yes: '', No: '' } };
    expect(() => small.labelTokenIds(scheme)).toThrow(/<L:No> \(scheme yn\)/);
  });

  it('trains deterministically, whatever the corpus order', () => {
    const again = Tokenizer.train(new Rng(9).shuffle(corpus), { vocabSize: 512 });
    expect(again.toJSON()).toEqual(tok.toJSON());
  });

  it('compresses frequent words to single tokens', () => {
    const ids = tok.encode('nike running shoes');
    expect(ids.length).toBe(3);
    expect(ids.map((id) => tok.tokenText(id))).toEqual(['nike', ' running', ' shoes']);
    const bytes = corpus.reduce((n, s) => n + Buffer.byteLength(s), 0);
    const tokens = corpus.reduce((n, s) => n + tok.encode(s).length, 0);
    expect(tokens / bytes).toBeLessThan(0.3);
  });

  it('round-trips any well-formed unicode string', () => {
    const rng = new Rng(42);
    const ranges: Array<[number, number]> = [
      [0x00, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff], [0x1f600, 0x1f64f],
    ];
    for (let t = 0; t < 300; t++) {
      let s = '';
      const len = rng.int(30);
      for (let i = 0; i < len; i++) {
        const [lo, hi] = rng.pick(ranges);
        s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
        if (rng.chance(0.1)) s += rng.pick([' ', '  ', '\n', '<eos>', '<L:Exact>', 'nike', "'s"]);
      }
      expect(tok.decode(tok.encode(s))).toBe(s);
      expect(tok.decode(tok.encode(s, { allowSpecial: true }))).toBe(s);
    }
    for (const s of ['', ' ', 'e\u0301', '👩‍👩‍👧', '\u0000\u0001', 'Ünïcödé – “x”']) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('never produces a special id from plain text; literals map only with allowSpecial', () => {
    const text = 'buy <eos> now <L:Exact><pad>';
    const plain = tok.encode(text);
    expect(plain.every((id) => !tok.isSpecial(id))).toBe(true);
    const special = tok.encode(text, { allowSpecial: true });
    expect(special.filter((id) => tok.isSpecial(id))).toEqual([tok.eosId, tok.tokenId(labelToken('Exact')), 0]);
    // "<L:Exact>" is matched whole, not cut at a shorter literal
    expect(tok.encode('<L:Exact>', { allowSpecial: true })).toEqual([tok.tokenId('<L:Exact>')]);
  });

  it('survives toJSON → fromJSON with identical encodings', () => {
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(back.vocabSize).toBe(512);
    for (const s of corpus.slice(0, 50)) expect(back.encode(s)).toEqual(tok.encode(s));
  });

  it('rejects malformed JSON with the field named', () => {
    const json = tok.toJSON();
    expect(() => Tokenizer.fromJSON({ ...json, version: 2 }, 'ckpt/tokenizer.json')).toThrow(/ckpt\/tokenizer\.json: version/);
    expect(() => Tokenizer.fromJSON({ ...json, merges: [[300, 1]] })).toThrow(/merge 0 refers to id 300/);
    expect(() => Tokenizer.fromJSON({ ...json, special_tokens: ['<bos>', '<pad>'] })).toThrow(/first special token must be <pad>/);
  });

  it('rejects a vocabSize smaller than specials + bytes', () => {
    expect(() => Tokenizer.train(corpus, { vocabSize: 100 })).toThrow(/must be an integer ≥ 285/);
  });

  it('encodes 10k short strings in under a second', () => {
    const fresh = Tokenizer.fromJSON(tok.toJSON());
    const texts = syntheticCorpus(10_000, 7);
    const t0 = performance.now();
    let n = 0;
    for (const s of texts) n += fresh.encode(s).length;
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(10_000);
    expect(ms).toBeLessThan(1000);
  });
});

describe('Tokenizer on real product text', () => {
  const path = sharedDataPath('homedepot/train.csv');
  it.skipIf(!path)('trains a 1024 vocab on Home Depot lines and round-trips them (skips without ../shared/data/homedepot/train.csv)', () => {
    // Raw CSV lines (latin-1) are enough for a tokenizer: no field parsing needed.
    const lines = readFileSync(path!, 'latin1').split('\n').slice(1, 20_001);
    const t0 = performance.now();
    const hd = Tokenizer.train(lines, { vocabSize: 1024 });
    const trainMs = performance.now() - t0;
    expect(hd.vocabSize).toBe(1024);
    expect(trainMs).toBeLessThan(15_000);
    for (const s of lines.slice(0, 500)) expect(hd.decode(hd.encode(s))).toBe(s);
    const bytes = lines.slice(0, 500).reduce((n, s) => n + Buffer.byteLength(s), 0);
    const tokens = lines.slice(0, 500).reduce((n, s) => n + hd.encode(s).length, 0);
    expect(tokens / bytes).toBeLessThan(0.5);
  });
});

describe('Tokenizer normalize: lower', () => {
  const corpus = ['Red Running Shoe', 'red running shoes', 'Nike RED shoe'];
  const lower = Tokenizer.train(corpus, { vocabSize: 320, normalize: 'lower' });
  const cased = Tokenizer.train(corpus, { vocabSize: 320 });

  it('encodes "Red" and "red" to the same ids, and specials are untouched', () => {
    expect(lower.encode(' Red')).toEqual(lower.encode(' red'));
    expect(cased.encode(' Red')).not.toEqual(cased.encode(' red'));
    const ids = lower.encode('<L:Exact> Shoe', { allowSpecial: true });
    expect(ids[0]).toBe(lower.tokenId('<L:Exact>'));
    expect(lower.decode(ids)).toBe('<L:Exact> shoe');
  });

  it('learns merges from the lower-cased corpus and survives a JSON round trip', () => {
    // " red" occurs three times once folded, so it is a single merged token.
    expect(lower.encode(' RED')).toHaveLength(1);
    const back = Tokenizer.fromJSON(JSON.parse(JSON.stringify(lower.toJSON())));
    expect(back.normalize).toBe('lower');
    expect(back.encode(' Nike RED shoe')).toEqual(lower.encode(' nike red shoe'));
    expect(cased.toJSON()).not.toHaveProperty('normalize');
  });
});
