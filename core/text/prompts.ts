import { existsSync, readFileSync } from 'node:fs';
import { parseJsonText } from '../util/json.ts';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UserError, inputError } from '../util/errors.ts';
import type { LabelScheme } from '../data/labels.ts';
import type { PairRecord } from '../data/schema.ts';
import { labelToken, type Tokenizer } from './tokenizer.ts';
import { queryCoverage } from './words.ts';

/**
 * Prompt templates are user-editable JSON (templates/*.json) with named placeholders. The
 * completion layout is fixed by the template's kind, because training, beam mining and answer
 * parsing all depend on it:
 *   label          <L:x><eos>                              (the grade is scored at the prompt's last token)
 *   ee | ra | dr   <rationale> text<answer><L:x><eos>     (the grade is scored at <answer>)
 *   … answerFirst  <answer><L:x><rationale> text<eos>     (grade first, rationale as explanation)
 *
 * Template syntax in `prompt`:
 *   {name}     a placeholder (PLACEHOLDERS); a missing value renders as ""
 *   [ … ]      an optional group, dropped when every placeholder inside it is empty, so a product
 *              without a brand does not cost the tiny model's 128-token context a dangling ", "
 *   <name>     a special token of the tokenizer (e.g. <query>); every other character is plain text
 *   \x         the character x literally (for "\[", "\{", "\<")
 * Placeholder values are always plain text: a title containing "<eos>" cannot inject a token.
 * {match} is computed, not read: how many of the query's distinct words the title and the product
 * text contain ("title 1/3, product 2/3", search words of words.ts; empty for a query without
 * words). It puts the lexical baseline's coverage features into the prompt as text, the way
 * Askari et al. (ECIR 2023) inject BM25 scores into a cross-encoder's input.
 */

export const TemplateKind = z.enum(['label', 'ee', 'ra', 'dr']);
export type TemplateKind = z.infer<typeof TemplateKind>;

export const PLACEHOLDERS = [
  'query', 'title', 'brand', 'category', 'attributes', 'description', 'labels', 'rules', 'wrong_label', 'match',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export const PromptTemplate = z
  .object({
    id: z.string().min(1),
    version: z.literal(1),
    kind: TemplateKind,
    description: z.string().optional(),
    prompt: z.string().min(1),
    /** values used when neither the pair nor the extras give one (e.g. the compact rules text) */
    defaults: z.record(z.string(), z.string()).optional(),
    /**
     * Mark shared terms: at encode time a <hl> token is put before every query token that also
     * occurs in the product text and every product token that also occurs in the query (the
     * exact-match feature of DrQA, Chen et al. 2017, §3.1, written into the prompt the way a
     * search page bolds matched terms). A small model trained from scratch cannot learn to match
     * tokens across the prompt from a few thousand label tokens; with the marks it reads the match
     * and learns the grading rules. Default false; the built-in templates turn it on.
     */
    highlight: z.boolean().optional(),
    /**
     * CoT kinds only. false (default, LREF): the completion is `<rationale> text <answer><L:x><eos>`,
     * the grade read after the rationale. true: `<answer><L:x><rationale> text <eos>`, the grade first
     * and the rationale after it, as an explanation ("post-CoT", TaoSR1 2025; the multi-task
     * rationale training of Hsieh et al. 2023, "Distilling step-by-step"). The rationale then shapes
     * the model in training but the grade does not wait on a generated rationale, which a small
     * model writes badly. Set per run by the pipeline's cot.answerFirst.
     */
    answerFirst: z.boolean().optional(),
  })
  .strict();
/** `source` is where it was loaded from, for error messages; not part of the file. */
export type PromptTemplate = z.infer<typeof PromptTemplate> & { source?: string };

export const BUILTIN_TEMPLATES = ['label', 'ee', 'ra', 'dr'] as const;

export interface PromptExtras {
  /** the grading rules text for {rules}; default: the template's defaults.rules */
  rules?: string;
  /** the sampled wrong decision for {wrong_label} (DR-CoT); rendered as its label token */
  wrong_label?: string;
  /** for {labels} (the label names, best → worst) and to check wrong_label */
  scheme?: LabelScheme;
}

/** The product and query fields a prompt may show. */
export type PromptPair = Pick<PairRecord, 'query' | 'title' | 'brand' | 'category' | 'attributes' | 'description'>;

/** A rendered piece: plain text (encoded without specials) or one special token. */
export type PromptSegment = { kind: 'text'; text: string } | { kind: 'special'; token: string };

// ---------------------------------------------------------------------------------------------
// Loading and parsing

const TEMPLATE_DIR = fileURLToPath(new URL('./templates/', import.meta.url));

/** A built-in id ("label", "ee", "ra", "dr") or a path to a template JSON file. */
export function loadTemplate(pathOrId: string): PromptTemplate {
  const builtin = (BUILTIN_TEMPLATES as readonly string[]).includes(pathOrId);
  const file = builtin ? `${TEMPLATE_DIR}${pathOrId}.json` : pathOrId;
  if (!existsSync(file)) {
    throw new UserError(`prompt template ${file} not found (built-in templates: ${BUILTIN_TEMPLATES.join(', ')})`);
  }
  return parseTemplate(parseJsonText(readFileSync(file, 'utf8'), file), file);
}

/** Validates a template object (from a file, the UI's editor, or code); errors name `source`. */
export function parseTemplate(json: unknown, source = '(template)'): PromptTemplate {
  const parsed = PromptTemplate.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(source, undefined, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const template: PromptTemplate = { ...parsed.data, source };
  if (template.answerFirst && template.kind === 'label') throw inputError(source, undefined, 'answerFirst: a label template has no rationale to put the answer before');
  parseNodes(template); // throws on unknown placeholders and bad syntax
  for (const key of Object.keys(template.defaults ?? {})) {
    if (!isPlaceholder(key)) throw unknownPlaceholder(template, key, 'defaults');
  }
  return template;
}

type Node = { kind: 'lit'; text: string } | { kind: 'ph'; name: Placeholder } | { kind: 'group'; nodes: Node[] };

const parsedCache = new WeakMap<PromptTemplate, Node[]>();

function parseNodes(template: PromptTemplate): Node[] {
  const cached = parsedCache.get(template);
  if (cached) return cached;
  const src = template.prompt;
  const top: Node[] = [];
  let cur = top;
  let lit = '';
  const flush = () => {
    if (lit) cur.push({ kind: 'lit', text: lit });
    lit = '';
  };
  const fail = (problem: string) => inputError(template.source ?? `template ${template.id}`, undefined, `prompt: ${problem}`);
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      if (i + 1 >= src.length) throw fail('a trailing "\\" escapes nothing');
      lit += src[++i];
    } else if (c === '{') {
      const end = src.indexOf('}', i);
      if (end < 0) throw fail(`"{" at character ${i} is never closed`);
      const name = src.slice(i + 1, end).trim();
      if (!isPlaceholder(name)) throw unknownPlaceholder(template, name, 'prompt');
      flush();
      cur.push({ kind: 'ph', name });
      i = end;
    } else if (c === '}') {
      throw fail(`"}" at character ${i} closes nothing (write "\\}" for a literal brace)`);
    } else if (c === '[') {
      if (cur !== top) throw fail(`optional groups cannot nest ("[" at character ${i})`);
      flush();
      const group: Node[] = [];
      top.push({ kind: 'group', nodes: group });
      cur = group;
    } else if (c === ']') {
      if (cur === top) throw fail(`"]" at character ${i} closes nothing (write "\\]" for a literal bracket)`);
      flush();
      cur = top;
    } else {
      lit += c;
    }
  }
  if (cur !== top) throw fail('an optional group "[" is never closed');
  flush();
  parsedCache.set(template, top);
  return top;
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

function unknownPlaceholder(template: PromptTemplate, name: string, where: string): UserError {
  return inputError(
    template.source ?? `template ${template.id}`,
    undefined,
    `${where}: unknown placeholder {${name}}; known placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The prompt as segments: template text split at its <special> literals, placeholder values as text. */
export function promptSegments(template: PromptTemplate, pair: PromptPair, extras: PromptExtras = {}): PromptSegment[] {
  const values = placeholderValues(template, pair, extras);
  const out: PromptSegment[] = [];
  const emit = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'lit') pushLiteral(out, n.text);
      else if (n.kind === 'group') {
        if (n.nodes.some((m) => m.kind === 'ph' && values[m.name] !== '')) emit(n.nodes);
      } else if (n.name === 'wrong_label') {
        if (values.wrong_label) out.push({ kind: 'special', token: labelToken(values.wrong_label) });
      } else {
        pushText(out, values[n.name]);
      }
    }
  };
  emit(parseNodes(template));
  return out;
}

/** The prompt as a string; `tok.decode(encodePrompt(…))` gives exactly this, less the <hl> marks of a highlighting template. */
export function renderPrompt(template: PromptTemplate, pair: PromptPair, extras: PromptExtras = {}): string {
  return segmentsToString(promptSegments(template, pair, extras));
}

export function encodePrompt(tok: Tokenizer, template: PromptTemplate, pair: PromptPair, extras: PromptExtras = {}): number[] {
  const ids = encodeSegments(tok, promptSegments(template, pair, extras));
  return template.highlight ? highlightSharedTerms(ids, tok) : ids;
}

export const HIGHLIGHT_TOKEN = '<hl>';

/**
 * Inserts one <hl> before each *word* of the query span (after <query>) that also occurs in the
 * product span (after <product>), and vice versa. A span runs to the next special token. Words are
 * runs of tokens: a token whose text starts with a space or a non-alphanumeric character begins a
 * new word, so "unlocked" split into seven BPE pieces is one word with one mark (marking every piece
 * made most real-data prompts overflow the context). A word matches by its text (with a
 * lower-casing tokenizer "Red" and "red" match); punctuation is never marked. A prompt without both
 * markers is returned unchanged.
 */
export function highlightSharedTerms(ids: readonly number[], tok: Tokenizer): number[] {
  const queryAt = ids.indexOf(tok.tokenId('<query>'));
  const productAt = ids.indexOf(tok.tokenId('<product>'));
  if (queryAt < 0 || productAt < 0) return [...ids];
  const spanEnd = (start: number) => {
    let i = start + 1;
    while (i < ids.length && !tok.isSpecial(ids[i])) i++;
    return i;
  };
  const query = spanWords(ids, queryAt + 1, spanEnd(queryAt), tok);
  const product = spanWords(ids, productAt + 1, spanEnd(productAt), tok);
  const inQuery = new Set(query.map((w) => w.text));
  const inProduct = new Set(product.map((w) => w.text));
  const marks = new Set([...query.filter((w) => inProduct.has(w.text)), ...product.filter((w) => inQuery.has(w.text))].map((w) => w.start));
  const hl = tok.tokenId(HIGHLIGHT_TOKEN);
  const out: number[] = [];
  ids.forEach((id, i) => {
    if (marks.has(i)) out.push(hl);
    out.push(id);
  });
  return out;
}

/** The words of ids[from, to): where each starts and its text (trimmed); words with no letter or digit are left out. */
function spanWords(ids: readonly number[], from: number, to: number, tok: Tokenizer): { start: number; text: string }[] {
  const words: { start: number; text: string }[] = [];
  let cur: { start: number; text: string } | undefined;
  for (let i = from; i < to; i++) {
    const t = tok.tokenText(ids[i]);
    // a lone space piece belongs to the word after it
    const joins = cur && /^[\p{L}\p{N}]/u.test(t) && (/[\p{L}\p{N}]$/u.test(cur.text) || cur.text.trim() === '');
    if (!joins) {
      if (cur) words.push(cur);
      cur = { start: i, text: t };
    } else cur!.text += t;
  }
  if (cur) words.push(cur);
  return words.map((w) => ({ start: w.start, text: w.text.trim() })).filter((w) => /[\p{L}\p{N}]/u.test(w.text));
}

/** The completion layout of the template's kind (see the file comment). */
export function completionSegments(template: PromptTemplate, label: string, rationale?: string): PromptSegment[] {
  const answer: PromptSegment[] = [
    { kind: 'special', token: labelToken(label) },
    { kind: 'special', token: '<eos>' },
  ];
  if (template.kind === 'label') return answer;
  if (rationale === undefined) {
    throw new UserError(`template ${template.id} (kind ${template.kind}) needs a rationale to build a training completion`);
  }
  const text: PromptSegment[] = [{ kind: 'special', token: '<rationale>' }];
  pushText(text, ' ' + normalise(rationale));
  if (template.answerFirst) return [{ kind: 'special', token: '<answer>' }, answer[0], ...text, answer[1]];
  return [...text, { kind: 'special', token: '<answer>' }, ...answer];
}

export function renderCompletion(template: PromptTemplate, label: string, rationale?: string): string {
  return segmentsToString(completionSegments(template, label, rationale));
}

export function encodeCompletion(tok: Tokenizer, template: PromptTemplate, label: string, rationale?: string): number[] {
  return encodeSegments(tok, completionSegments(template, label, rationale));
}

export function encodeSegments(tok: Tokenizer, segments: readonly PromptSegment[]): number[] {
  const ids: number[] = [];
  for (const s of segments) {
    if (s.kind === 'special') ids.push(tok.tokenId(s.token));
    else for (const id of tok.encode(s.text)) ids.push(id);
  }
  return ids;
}

/** Every fixed text a template shows (literals and defaults): add to the tokenizer's training corpus. */
export function templateTexts(template: PromptTemplate): string[] {
  const texts: string[] = [];
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'lit') texts.push(...n.text.split(SPECIAL_LITERAL).filter((t) => t && !SPECIAL_LITERAL_WHOLE.test(t)));
      else if (n.kind === 'group') walk(n.nodes);
    }
  };
  walk(parseNodes(template));
  return [...texts, ...Object.values(template.defaults ?? {})];
}

/**
 * The plain-text pieces of one rendered prompt: the tokenizer's training corpus should be made of
 * these (not of whole rendered strings, whose "<query>" literals are specials, not text), so that
 * words carry the leading space they have at encode time.
 */
export function promptTexts(template: PromptTemplate, pair: PromptPair, extras: PromptExtras = {}): string[] {
  return promptSegments(template, pair, extras).flatMap((s) => (s.kind === 'text' ? [s.text] : []));
}

/** Same shape the tokenizer accepts for a special token. */
const SPECIAL_LITERAL = /(<[^<>\n]+>)/u;
const SPECIAL_LITERAL_WHOLE = /^<[^<>\n]+>$/u;

function pushLiteral(out: PromptSegment[], text: string): void {
  const parts = text.split(SPECIAL_LITERAL);
  parts.forEach((p, i) => {
    if (i % 2 === 1) out.push({ kind: 'special', token: p });
    else pushText(out, p);
  });
}

/** Adjacent text is merged so " " + "nike shoes" encodes as " nike", " shoes", not " ", "nike", " shoes". */
function pushText(out: PromptSegment[], text: string): void {
  if (!text) return;
  const last = out[out.length - 1];
  if (last?.kind === 'text') last.text += text;
  else out.push({ kind: 'text', text });
}

function segmentsToString(segments: readonly PromptSegment[]): string {
  return segments.map((s) => (s.kind === 'text' ? s.text : s.token)).join('');
}

/** Whitespace runs (CSV newlines, double spaces) cost tokens and carry no meaning: collapse them. */
function normalise(v: string | undefined): string {
  return v === undefined ? '' : v.replace(/\s+/gu, ' ').trim();
}

function placeholderValues(template: PromptTemplate, pair: PromptPair, extras: PromptExtras): Record<Placeholder, string> {
  const d = template.defaults ?? {};
  const attributes = pair.attributes
    ? Object.entries(pair.attributes)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')
    : undefined;
  const wrong = extras.wrong_label ?? d.wrong_label;
  if (wrong !== undefined && extras.scheme && !extras.scheme.labels.includes(wrong)) {
    throw new UserError(`wrong_label "${wrong}" is not a label of scheme ${extras.scheme.id} (${extras.scheme.labels.join(', ')})`);
  }
  return {
    query: normalise(pair.query ?? d.query),
    title: normalise(pair.title ?? d.title),
    brand: normalise(pair.brand ?? d.brand),
    category: normalise(pair.category ?? d.category),
    attributes: normalise(attributes ?? d.attributes),
    description: normalise(pair.description ?? d.description),
    labels: normalise(extras.scheme ? extras.scheme.labels.join(', ') : d.labels),
    rules: normalise(extras.rules ?? d.rules),
    wrong_label: normalise(wrong),
    match: matchLine(pair),
  };
}

function matchLine(pair: PromptPair): string {
  const c = queryCoverage(pair);
  return c.queryWords === 0 ? '' : `title ${c.inTitle}/${c.queryWords}, product ${c.inProduct}/${c.queryWords}`;
}

// ---------------------------------------------------------------------------------------------
// Fitting into the model's context

export interface Fitted {
  promptIds: number[];
  completionIds: number[];
  /** how many tokens were cut (0 when it already fit) */
  dropped: number;
}

/**
 * Shortens an encoded example to at most `ctx` tokens without touching the markers, the label or
 * <eos>. What may shrink is the text after <product> (title, brand, category, attributes,
 * description: cut from the end, so the description goes first and the title last), after
 * <rules>, and the completion's rationale. Like Hugging Face's "longest_first", each cut token
 * comes from whichever of these is currently longest, so a long description does not wipe out the
 * rules and vice versa. The query is cut only when all three are empty. Segments are found by the
 * tokenizer's marker ids, so this works for any template that uses the markers.
 */
export function fitToContext(promptIds: readonly number[], completionIds: readonly number[], ctx: number, tok: Tokenizer): Fitted {
  const total = promptIds.length + completionIds.length;
  if (total <= ctx) return { promptIds: [...promptIds], completionIds: [...completionIds], dropped: 0 };
  const spans = {
    product: textSpan(promptIds, '<product>', tok),
    rules: textSpan(promptIds, '<rules>', tok),
    rationale: textSpan(completionIds, '<rationale>', tok),
    query: textSpan(promptIds, '<query>', tok),
  };
  const keep = { product: spans.product.len, rules: spans.rules.len, rationale: spans.rationale.len, query: spans.query.len };
  let over = total - ctx;
  while (over > 0) {
    const name = (['product', 'rules', 'rationale'] as const).reduce((a, b) => (keep[b] > keep[a] ? b : a));
    if (keep[name] > 0) keep[name]--;
    else if (keep.query > 0) keep.query--;
    else {
      throw new UserError(
        `an example of ${promptIds.length} prompt + ${completionIds.length} completion tokens cannot fit a context of ${ctx} ` +
          'even with the product, rules, rationale and query text removed; raise the context or shorten the template',
      );
    }
    over--;
  }
  const hl = tok.specialTokens.includes(HIGHLIGHT_TOKEN) ? tok.tokenId(HIGHLIGHT_TOKEN) : -1;
  const cut = (ids: readonly number[], parts: Array<{ start: number; len: number; keep: number }>) => {
    const drop = new Set<number>();
    for (const p of parts) {
      for (let i = p.start + p.keep; i < p.start + p.len; i++) drop.add(i);
      // a <hl> whose marked token was cut would mark nothing
      if (p.keep > 0 && p.keep < p.len && ids[p.start + p.keep - 1] === hl) drop.add(p.start + p.keep - 1);
    }
    return ids.filter((_, i) => !drop.has(i));
  };
  const out = {
    promptIds: cut(promptIds, [
      { ...spans.product, keep: keep.product },
      { ...spans.rules, keep: keep.rules },
      { ...spans.query, keep: keep.query },
    ]),
    completionIds: cut(completionIds, [{ ...spans.rationale, keep: keep.rationale }]),
  };
  return { ...out, dropped: total - out.promptIds.length - out.completionIds.length };
}

/**
 * The text after the first `marker`, up to the next special token other than <hl>: a highlight
 * mark belongs to the text it marks (highlightSharedTerms), so it neither ends a span nor is left
 * out of its length. fitToContext cuts by these spans, and fitCot measures with them, so a length
 * measured here is a length fitToContext can keep.
 */
export function textSpan(ids: readonly number[], marker: string, tok: Tokenizer): { start: number; len: number } {
  const specials = tok.specialTokens;
  const at = specials.includes(marker) ? ids.indexOf(tok.tokenId(marker)) : -1;
  if (at < 0) return { start: 0, len: 0 };
  const hl = specials.includes(HIGHLIGHT_TOKEN) ? tok.tokenId(HIGHLIGHT_TOKEN) : -1;
  let end = at + 1;
  while (end < ids.length && (!tok.isSpecial(ids[end]) || ids[end] === hl)) end++;
  return { start: at + 1, len: end - at - 1 };
}

// ---------------------------------------------------------------------------------------------
// Reading the answer back

export type ParsedAnswer = { label: string } | { error: 'unparseable'; raw: string };

/**
 * Extracts the grade from generated output (ids need `tok`). In order of trust:
 *   1. a label token after the last <answer> (or anywhere, when there is no <answer>): the first one;
 *   2. a label word right after the last <answer> token;
 *   3. a label word after the last "answer" / "answer:" / "answer is" in free text (teacher output);
 *   4. the whole output being one label word.
 * Label words match case-insensitively and return the scheme's spelling. A label token of another
 * scheme, or nothing recognisable, gives {error: 'unparseable', raw}: never a guessed label.
 */
export function parseAnswer(output: string | readonly number[], scheme: LabelScheme, tok?: Tokenizer): ParsedAnswer {
  let raw: string;
  if (typeof output === 'string') raw = output;
  else if (tok) raw = tok.decode(output);
  else throw new Error('parseAnswer: token ids need the tokenizer that produced them');

  const answerAt = raw.lastIndexOf('<answer>');
  const region = answerAt >= 0 ? raw.slice(answerAt + '<answer>'.length) : raw;
  const bad = { error: 'unparseable', raw } as const;

  const tokenMatch = /<L:([^<>\n]+)>/u.exec(region);
  if (tokenMatch) return scheme.labels.includes(tokenMatch[1]) ? { label: tokenMatch[1] } : bad;

  const word = labelWordPattern(scheme);
  if (answerAt >= 0) {
    const m = new RegExp(`^[\\s:"'*]*(${word})(?![\\p{L}\\p{N}])`, 'iu').exec(region);
    return m ? { label: canonical(scheme, m[1]) } : bad;
  }
  const afterAnswer = [...raw.matchAll(new RegExp(`\\banswer\\s*(?:is|:|=|-)?[\\s:"'*]*(${word})(?![\\p{L}\\p{N}])`, 'giu'))];
  if (afterAnswer.length > 0) return { label: canonical(scheme, afterAnswer[afterAnswer.length - 1][1]) };
  const whole = raw.replace(/<eos>/g, '').replace(/^[\s"'*]+|[\s"'*.!]+$/gu, '');
  const hit = scheme.labels.find((l) => l.toLowerCase() === whole.toLowerCase());
  return hit ? { label: hit } : bad;
}

function labelWordPattern(scheme: LabelScheme): string {
  return [...scheme.labels]
    .sort((a, b) => b.length - a.length)
    .map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|');
}

function canonical(scheme: LabelScheme, word: string): string {
  return scheme.labels.find((l) => l.toLowerCase() === word.toLowerCase())!;
}
