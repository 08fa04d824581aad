import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LREF5, ESCI4, GRADED4 } from '../data/labels.ts';
import { Tokenizer } from './tokenizer.ts';
import {
  loadTemplate, parseTemplate, renderPrompt, renderCompletion, encodePrompt, encodeCompletion, fitToContext,
  parseAnswer, templateTexts, promptTexts, BUILTIN_TEMPLATES, type PromptPair,
} from './prompts.ts';

const pair: PromptPair = {
  query: 'nike running shoes women red',
  title: "Nike Women's Running Shoe",
  brand: 'Nike',
  category: 'Shoes > Running',
  attributes: { color: 'blue', size: '8' },
};
const bare: PromptPair = { query: 'coffee maker', title: 'Drip Coffee Maker  12\ncup' };

const templates = Object.fromEntries(BUILTIN_TEMPLATES.map((id) => [id, loadTemplate(id)]));
// As a pipeline should: train on the text segments of rendered prompts, so words carry the same
// leading space they will have at encode time.
const corpus = [
  ...Object.values(templates).flatMap(templateTexts),
  ...Array.from({ length: 200 }, () => [pair, bare].flatMap((p) => promptTexts(templates.label, p))).flat(),
  ...Array.from({ length: 200 }, () => 'the product type matches'),
];
const tok = Tokenizer.train(corpus, { vocabSize: 512 });

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lref-tpl-'));
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('templates', () => {
  it('loads the four built-ins, one per kind', () => {
    expect(Object.values(templates).map((t) => [t.id, t.kind])).toEqual([
      ['label', 'label'], ['ee', 'ee'], ['ra', 'ra'], ['dr', 'dr'],
    ]);
    expect(templates.ra.defaults?.rules).toMatch(/Marginal: brand, size, audience or negation missed/);
  });

  it('names the file and the placeholder when a template uses an unknown one', () => {
    const p = tempFile('mine.json', JSON.stringify({ id: 'mine', version: 1, kind: 'label', prompt: '<query> {qeury}<answer>' }));
    expect(() => loadTemplate(p)).toThrow(`${p}: prompt: unknown placeholder {qeury}`);
    expect(() => parseTemplate({ id: 'x', version: 1, kind: 'label', prompt: 'a', defaults: { rulez: '' } }, 'x.json')).toThrow(
      'x.json: defaults: unknown placeholder {rulez}',
    );
  });

  it('reports bad JSON with its line, bad fields by name, and bad syntax', () => {
    const p = tempFile('broken.json', '{\n  "id": "b",\n  "version": 1,\n  "kind": "label"\n  "prompt": "x"\n}');
    expect(() => loadTemplate(p)).toThrow(new RegExp(`${p}:5: invalid JSON`));
    expect(() => parseTemplate({ id: 'x', version: 2, kind: 'label', prompt: 'a' }, 'v.json')).toThrow(/v\.json: version/);
    expect(() => parseTemplate({ id: 'x', version: 1, kind: 'cot', prompt: 'a' }, 'k.json')).toThrow(/k\.json: kind/);
    expect(() => parseTemplate({ id: 'x', version: 1, kind: 'label', prompt: '[a[{query}]]' }, 'n.json')).toThrow(/cannot nest/);
    expect(() => parseTemplate({ id: 'x', version: 1, kind: 'label', prompt: '{query' }, 'o.json')).toThrow(/never closed/);
    expect(() => loadTemplate('/nowhere/t.json')).toThrow(/\/nowhere\/t\.json not found/);
  });
});

describe('renderPrompt', () => {
  it('fills placeholders and keeps optional groups only when they have a value', () => {
    expect(renderPrompt(templates.label, pair)).toBe(
      "<bos><query> nike running shoes women red<sep> title 4/5, product 4/5<product> Nike Women's Running Shoe, Nike, Shoes > Running; color: blue; size: 8<answer>",
    );
    // no brand/category/attributes: their "[, …]" groups vanish; whitespace runs collapse
    expect(renderPrompt(templates.label, bare)).toBe('<bos><query> coffee maker<sep> title 2/2, product 2/2<product> Drip Coffee Maker 12 cup<answer>');
    // {match}: the query's distinct words found in the title, and in title + brand + category + attributes
    expect(renderPrompt(templates.label, { query: 'blue nike shoes', title: 'Nike shoe', attributes: { color: 'Blue' } })).toContain('<sep> title 2/3, product 3/3<product>');
  });

  it('puts the rules (default or given) and the wrong decision into RA and DR prompts', () => {
    expect(renderPrompt(templates.ra, bare)).toMatch(/^<bos><rules> Exact: all met\. .*Irrelevant: unrelated\.<query> coffee maker<sep> title 2\/2, product 2\/2<product>/);
    expect(renderPrompt(templates.ra, bare, { rules: 'R' })).toBe('<bos><rules> R<query> coffee maker<sep> title 2/2, product 2/2<product> Drip Coffee Maker 12 cup');
    expect(renderPrompt(templates.dr, bare, { wrong_label: 'Exact', scheme: LREF5 })).toBe(
      '<bos><wrong><L:Exact><query> coffee maker<sep> title 2/2, product 2/2<product> Drip Coffee Maker 12 cup',
    );
    expect(() => renderPrompt(templates.dr, bare, { wrong_label: 'E', scheme: LREF5 })).toThrow(/not a label of scheme lref5/);
  });

  it('renders missing values as empty and lists labels for {labels}', () => {
    const t = parseTemplate({ id: 't', version: 1, kind: 'label', prompt: '{brand}|{labels}|\\[x\\]' });
    expect(renderPrompt(t, bare, { scheme: ESCI4 })).toBe('|E, S, C, I|[x]');
    expect(renderPrompt(t, bare)).toBe('||[x]');
  });

  it('encodes to the rendered string, markers as single ids, values never as specials', () => {
    const evil: PromptPair = { query: 'case <eos>', title: '<L:Exact> phone' };
    const plain = { ...templates.label, highlight: false };
    const ids = encodePrompt(tok, plain, evil);
    expect(tok.decode(ids)).toBe(renderPrompt(plain, evil));
    const specials = ids.filter((id) => tok.isSpecial(id)).map((id) => tok.tokenText(id));
    expect(specials).toEqual(['<bos>', '<query>', '<sep>', '<product>', '<answer>']);
    // the space after <query> joins the first word: " coffee" " maker", not " " "coffee" " maker"
    const q = encodePrompt(tok, parseTemplate({ id: 'q', version: 1, kind: 'label', prompt: '<query> {query}' }), bare);
    expect(q.slice(1).map((id) => tok.tokenText(id))).toEqual([' coffee', ' maker']);
  });
});

describe('highlight (shared query–product terms)', () => {
  it('marks each query word found in the product text and each product word found in the query, once per word', () => {
    const pair: PromptPair = { query: 'red running shoes', title: 'Nike running shoes, Blue' };
    const ids = encodePrompt(tok, templates.label, pair);
    expect(templates.label.highlight).toBe(true);
    const hl = tok.tokenId('<hl>');
    // Without the marks the ids are exactly the plain encoding.
    const plain = encodePrompt(tok, { ...templates.label, highlight: false }, pair);
    expect(ids.filter((id) => id !== hl)).toEqual(plain);
    // "running" and "shoes" on both sides: four marks, one before each occurrence's first piece.
    expect(ids.filter((id) => id === hl)).toHaveLength(4);
    const text = tok.decode(ids);
    // the {match} line after <sep> belongs to neither side and gets no marks
    expect(text).toContain('<query> red<hl> running<hl> shoes<sep> title 2/3, product 2/3<product> Nike<hl> running<hl> shoes, Blue');
  });

  it('puts one mark on a word split into many pieces, and none on punctuation', () => {
    // A word the tokenizer has never seen falls into several pieces; it still gets one mark.
    const pair: PromptPair = { query: 'zqxv-unlockedzz phone', title: 'phone zqxv-unlockedzz, 64gb' };
    const plain = encodePrompt(tok, { ...templates.label, highlight: false }, pair);
    const ids = encodePrompt(tok, templates.label, pair);
    const hl = tok.tokenId('<hl>');
    const q = plain.indexOf(tok.tokenId('<query>'));
    const p = plain.indexOf(tok.tokenId('<product>'));
    expect(p - q - 1).toBeGreaterThan(6); // many pieces …
    // … yet marks only on the shared words "zqxv", "unlockedzz" and "phone" on each side ("-" is punctuation)
    expect(ids.filter((id) => id === hl)).toHaveLength(6);
    expect(tok.decode(ids)).toContain('<query><hl> zqxv-<hl>unlockedzz<hl> phone<sep> title 3/3, product 3/3<product><hl> phone<hl> zqxv-<hl>unlockedzz, 64gb<answer>');
  });

  it('leaves a prompt without both <query> and <product> unchanged', () => {
    const t = parseTemplate({ id: 'q', version: 1, kind: 'label', prompt: '<query> {query}', highlight: true });
    expect(encodePrompt(tok, t, bare)).toEqual(encodePrompt(tok, { ...t, highlight: false }, bare));
  });
});

describe('renderCompletion', () => {
  it('lays out label-only and CoT completions', () => {
    expect(renderCompletion(templates.label, 'Marginal')).toBe('<L:Marginal><eos>');
    expect(renderCompletion(templates.ee, 'Trivial', 'an insole,\n not a shoe')).toBe(
      '<rationale> an insole, not a shoe<answer><L:Trivial><eos>',
    );
    expect(() => renderCompletion(templates.ra, 'Exact')).toThrow(/needs a rationale/);
    // answerFirst: the grade first, the rationale after it as the explanation (post-CoT)
    expect(renderCompletion({ ...templates.ee, answerFirst: true }, 'Trivial', 'an insole, not a shoe')).toBe(
      '<answer><L:Trivial><rationale> an insole, not a shoe<eos>',
    );
    const { source: _source, ...labelJson } = templates.label;
    expect(() => parseTemplate({ ...labelJson, answerFirst: true }, 'mine.json')).toThrow(/mine\.json: answerFirst: a label template/);
    const ids = encodeCompletion(tok, templates.label, 'Exact');
    expect(ids).toEqual([tok.tokenId('<L:Exact>'), tok.eosId]);
  });
});

describe('fitToContext', () => {
  const long: PromptPair = { ...pair, description: 'the product type matches '.repeat(40) };

  it('leaves an example that fits untouched', () => {
    const p = encodePrompt(tok, templates.label, pair);
    const c = encodeCompletion(tok, templates.label, 'Exact');
    expect(fitToContext(p, c, 128, tok)).toEqual({ promptIds: p, completionIds: c, dropped: 0 });
  });

  it('cuts the product text from its end and keeps query, markers and label', () => {
    const p = encodePrompt(tok, templates.label, long);
    const c = encodeCompletion(tok, templates.label, 'Significant');
    expect(p.length + c.length).toBeGreaterThan(128);
    const fit = fitToContext(p, c, 128, tok);
    expect(fit.promptIds.length + fit.completionIds.length).toBe(128);
    expect(fit.dropped).toBe(p.length + c.length - 128);
    expect(fit.completionIds).toEqual(c);
    const text = tok.decode(fit.promptIds);
    expect(text.startsWith("<bos><query> nike running shoes women red<sep> title 4/5, product 4/5<product> Nike Women's Running Shoe, Nike")).toBe(true);
    expect(text.endsWith('<answer>')).toBe(true);
  });

  it('shaves the longest of product, rules and rationale first', () => {
    // ctx 40 on an RA example: prompt = 5 markers + rules R + query Q + match line M + product P tokens,
    // completion = 4 specials + rationale T. Longest-first ends with the three lengths within 1.
    const p = encodePrompt(tok, templates.ra, long);
    const c = encodeCompletion(tok, templates.ra, 'Exact', 'the product type matches '.repeat(10));
    const fit = fitToContext(p, c, 40, tok);
    expect(fit.promptIds.length + fit.completionIds.length).toBe(40);
    const spanLen = (ids: number[], marker: string) => {
      const at = ids.indexOf(tok.tokenId(marker));
      let end = at + 1;
      while (end < ids.length && !tok.isSpecial(ids[end])) end++;
      return end - at - 1;
    };
    const q = spanLen(p, '<query>');
    const m = spanLen(p, '<sep>');
    expect(spanLen(fit.promptIds, '<query>')).toBe(q);
    expect(spanLen(fit.promptIds, '<sep>')).toBe(m);
    const lens = [spanLen(fit.promptIds, '<product>'), spanLen(fit.promptIds, '<rules>'), spanLen(fit.completionIds, '<rationale>')];
    // 40 = 5 prompt specials (<bos><rules><query><sep><product>) + q + m + 4 completion specials + sum(lens)
    expect(lens.reduce((a, b) => a + b)).toBe(40 - 9 - q - m);
    expect(Math.max(...lens) - Math.min(...lens)).toBeLessThanOrEqual(1);
    expect(fit.completionIds.slice(-3)).toEqual([tok.tokenId('<answer>'), tok.tokenId('<L:Exact>'), tok.eosId]);
  });

  it('cuts a highlighted product text through its <hl> marks and never leaves a dangling mark', () => {
    const shared: PromptPair = { query: 'nike running shoes', title: 'Nike running shoes', description: ' nike running shoes'.repeat(40) };
    const p = encodePrompt(tok, templates.label, shared);
    const hl = tok.tokenId('<hl>');
    expect(p.filter((id) => id === hl).length).toBeGreaterThan(40);
    for (const ctx of [60, 61, 62, 63]) {
      const fit = fitToContext(p, encodeCompletion(tok, templates.label, 'Exact'), ctx, tok);
      expect(fit.promptIds.length + fit.completionIds.length).toBeLessThanOrEqual(ctx);
      expect(fit.promptIds.length + fit.completionIds.length).toBeGreaterThanOrEqual(ctx - 1);
      const answerAt = fit.promptIds.indexOf(tok.tokenId('<answer>'));
      expect(fit.promptIds[answerAt - 1]).not.toBe(hl);
    }
  });

  it('refuses when even the markers and label cannot fit', () => {
    const p = encodePrompt(tok, templates.label, pair);
    const c = encodeCompletion(tok, templates.label, 'Exact');
    expect(() => fitToContext(p, c, 5, tok)).toThrow(/cannot fit a context of 5/);
  });
});

describe('parseAnswer', () => {
  const ids = (s: string) => tok.encode(s, { allowSpecial: true });

  it('reads a label token, preferring the one after the last <answer>', () => {
    expect(parseAnswer(ids('<L:Marginal><eos>'), LREF5, tok)).toEqual({ label: 'Marginal' });
    expect(parseAnswer('<rationale> not <L:Exact> really<answer><L:Trivial><eos>', LREF5)).toEqual({ label: 'Trivial' });
    expect(parseAnswer(ids('<rationale> blah<answer> significant<eos>'), LREF5, tok)).toEqual({ label: 'Significant' });
  });

  it('reads free-text answers from teachers', () => {
    expect(parseAnswer('The core type matches. Answer: Exact.', LREF5)).toEqual({ label: 'Exact' });
    expect(parseAnswer('answer is "irrelevant"', LREF5)).toEqual({ label: 'Irrelevant' });
    expect(parseAnswer('Marginal', LREF5)).toEqual({ label: 'Marginal' });
    expect(parseAnswer(' 3\n', GRADED4)).toEqual({ label: '3' });
  });

  it('never maps an unrecognised output to a label', () => {
    expect(parseAnswer('<L:Partial><eos>', LREF5)).toEqual({ error: 'unparseable', raw: '<L:Partial><eos>' });
    expect(parseAnswer('<rationale> exact match<answer>', LREF5)).toEqual({ error: 'unparseable', raw: '<rationale> exact match<answer>' });
    expect(parseAnswer('Exactly right', LREF5)).toEqual({ error: 'unparseable', raw: 'Exactly right' });
    expect(parseAnswer('answer: Exacting', LREF5)).toEqual({ error: 'unparseable', raw: 'answer: Exacting' });
    expect(() => parseAnswer([1, 2], LREF5)).toThrow(/need the tokenizer/);
  });
});
