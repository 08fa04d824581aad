import { beforeAll, describe, expect, it } from 'vitest';
import { LREF5 } from '../data/labels.ts';
import { initBackend } from '../model/backend.ts';
import { TrainConfig } from '../model/config.ts';
import { DecoderLM } from '../model/gpt.ts';
import { trainLM } from '../train/loop.ts';
import { encodeCompletion, encodePrompt, fitToContext, HIGHLIGHT_TOKEN, parseAnswer } from '../text/prompts.ts';
import { labelToken } from '../text/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { craftedLabelModel, dpoFixture } from './dpo-fixture.ts';
import {
  MineConfig,
  minePreferences,
  pickPreference,
  PreferencePair,
  rankByBeamSearch,
  rankLabelsByScore,
  trlJsonl,
  type Candidate,
} from './dpo-mine.ts';
import { encodePrompts } from './relevance-model.ts';

const defaults = MineConfig.parse({});
const cand = (label: string | null, tokens = [label === null ? 99 : 10 + LREF5.labels.indexOf(label)]): Candidate => ({ tokens, label });
const beams = (...labels: (string | null)[]) => labels.map((l) => cand(l));

describe('pickPreference (crafted outputs)', () => {
  it('wrong top-1 → rejected; the best-ranked beam with the gold label → chosen', () => {
    const pick = pickPreference(LREF5, 'Marginal', beams('Significant', 'Exact', 'Marginal', 'Marginal'), [77], defaults);
    expect(pick).toEqual({
      kind: 'pair',
      value: { rejected: [11], rejected_label: 'Significant', chosen: [12], chosen_rank: 3, gold: 'Marginal', optimistic: true },
    });
  });

  it('a correct top-1 is not mined', () => {
    expect(pickPreference(LREF5, 'Significant', beams('Significant', 'Marginal'), [77], defaults)).toEqual({ kind: 'skip', reason: 'correct' });
  });

  it('an under-graded top-1 is mined (optimistic false) unless onlyOptimistic', () => {
    const pick = pickPreference(LREF5, 'Exact', beams('Significant', 'Exact'), [77], defaults);
    expect(pick.kind === 'pair' && pick.value.optimistic).toBe(false);
    expect(pick.kind === 'pair' && pick.value.chosen_rank).toBe(2);
    expect(pickPreference(LREF5, 'Exact', beams('Significant', 'Exact'), [77], { ...defaults, onlyOptimistic: true })).toEqual({
      kind: 'skip',
      reason: 'not-optimistic',
    });
  });

  it('no correct beam: the teacher completion (rank null), or dropped when fallback is off or there is no teacher', () => {
    const wrong = beams('Significant', 'Exact');
    const pick = pickPreference(LREF5, 'Trivial', wrong, [77], defaults);
    expect(pick.kind === 'pair' && [pick.value.chosen, pick.value.chosen_rank]).toEqual([[77], null]);
    expect(pickPreference(LREF5, 'Trivial', wrong, [77], { ...defaults, teacherFallback: false })).toEqual({ kind: 'skip', reason: 'no-correct-beam' });
    expect(pickPreference(LREF5, 'Trivial', wrong, undefined, defaults)).toEqual({ kind: 'skip', reason: 'no-teacher' });
  });

  it("chosen: 'teacher' ignores a correct beam", () => {
    const pick = pickPreference(LREF5, 'Marginal', beams('Significant', 'Marginal'), [77], { ...defaults, chosen: 'teacher' });
    expect(pick.kind === 'pair' && [pick.value.chosen, pick.value.chosen_rank, pick.value.rejected]).toEqual([[77], null, [11]]);
  });

  it('an unparseable top-1 is a wrong answer with no label; an empty one is skipped', () => {
    const pick = pickPreference(LREF5, 'Marginal', beams(null, 'Marginal'), [77], defaults);
    expect(pick.kind === 'pair' && [pick.value.rejected, pick.value.rejected_label, pick.value.optimistic]).toEqual([[99], null, false]);
    expect(pickPreference(LREF5, 'Marginal', [cand(null, [])], [77], defaults)).toEqual({ kind: 'skip', reason: 'empty-output' });
  });
});

describe('minePreferences on a crafted label model', () => {
  // Every prompt ranks Significant > Marginal > Exact > Trivial > Irrelevant: an optimistic judge.
  const ranking = { Significant: 3, Marginal: 2, Exact: 1, Trivial: 0, Irrelevant: -1 };
  const fx = dpoFixture(60, 7);
  let rm: ReturnType<typeof craftedLabelModel>;

  beforeAll(async () => {
    await initBackend('wasm');
    rm = craftedLabelModel(fx, ranking);
  });

  it('mines every non-Significant pair: rejected Significant, chosen the gold label at its beam rank', () => {
    const prefs = minePreferences(fx.ctx, rm, fx.pairs);
    const byGold = (g: string) => fx.pairs.filter((p) => p.label === g).length;
    for (const g of ['Significant', 'Marginal', 'Exact', 'Trivial', 'Irrelevant']) expect(byGold(g), g).toBeGreaterThan(0);
    expect(prefs).toHaveLength(fx.pairs.length - byGold('Significant'));
    const id = (l: string) => fx.tok.tokenId(labelToken(l));
    const rank: Record<string, number | null> = { Marginal: 2, Exact: 3, Trivial: 4, Irrelevant: null }; // Irrelevant is 5th: beyond 4 beams
    const prompts = encodePrompts(rm, fx.pairs);
    for (const p of prefs) {
      expect(PreferencePair.safeParse(p).success).toBe(true);
      const i = fx.pairs.findIndex((x) => x.pair_id === p.pair_id);
      expect(p.gold).toBe(fx.pairs[i].label);
      expect(p.prompt).toEqual(prompts[i]);
      expect(p.rejected).toEqual([id('Significant')]);
      expect(p.rejected_label).toBe('Significant');
      expect(p.chosen).toEqual([id(p.gold)]);
      expect(p.chosen_rank, p.gold).toBe(rank[p.gold]);
      expect(p.optimistic).toBe(p.gold !== 'Exact');
    }
    const wrong = prefs.length;
    const optimistic = wrong - byGold('Exact');
    expect(fx.lines.at(-1)).toContain(`top-1 wrong ${wrong} `);
    expect(fx.lines.at(-1)).toContain(`${optimistic} optimistic`);
    expect(fx.lines.at(-1)).toContain(`teacher: ${byGold('Irrelevant')}`);
  });

  it('onlyOptimistic drops the under-graded Exact pairs; teacherFallback off drops the Irrelevant ones', () => {
    const all = minePreferences(fx.ctx, rm, fx.pairs);
    const opt = minePreferences(fx.ctx, rm, fx.pairs, { onlyOptimistic: true });
    expect(opt.map((p) => p.pair_id)).toEqual(all.filter((p) => p.gold !== 'Exact').map((p) => p.pair_id));
    const strict = minePreferences(fx.ctx, rm, fx.pairs, { teacherFallback: false });
    expect(strict.map((p) => p.pair_id)).toEqual(all.filter((p) => p.gold !== 'Irrelevant').map((p) => p.pair_id));
    expect(fx.lines.at(-1)).toContain(`no-correct-beam: ${all.length - strict.length}`);
  });

  it('scoring the label tokens ranks exactly as a one-token beam search over the whole vocabulary', () => {
    const prompts = encodePrompts(rm, fx.pairs.slice(0, 5));
    const scored = rankLabelsByScore(rm, prompts, 4);
    prompts.forEach((prompt, i) => {
      expect(scored[i].map((c) => c.label)).toEqual(['Significant', 'Marginal', 'Exact', 'Trivial']);
      expect(rankByBeamSearch(rm, prompt, 4, 1)).toEqual(scored[i]);
    });
  });

  it('exports TRL preference JSONL: {prompt, chosen, rejected} as decoded text, completions only', () => {
    const prefs = minePreferences(fx.ctx, rm, fx.pairs).slice(0, 3);
    const lines = trlJsonl(prefs, fx.tok).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    lines.forEach((rec, i) => {
      expect(Object.keys(rec)).toEqual(['prompt', 'chosen', 'rejected']);
      // The exact prompt the policy was mined on, <hl> marks included (toTrlPreference: one mark
      // per word the query shares with the product, when the cut prompt still shows one).
      expect(rec.prompt).toBe(fx.tok.decode(prefs[i].prompt));
      expect(rec.prompt.startsWith('<bos><query>')).toBe(true);
      // Less the marks, it is the label template's text (lower-cased by the run tokenizer), the
      // query shortened from its end to fit the smoke context.
      const unmarked = rec.prompt.replaceAll(HIGHLIGHT_TOKEN, '');
      const query = fx.pairs.find((p) => p.pair_id === prefs[i].pair_id)!.query;
      const shownQuery = unmarked.slice('<bos><query>'.length, unmarked.indexOf('<sep>'));
      expect(shownQuery.length).toBeGreaterThan(1);
      expect(` ${query.toLowerCase()}`.startsWith(shownQuery)).toBe(true);
      // (with one mark per word the prompts are shorter, so some product text may now survive the cut)
      expect(unmarked.includes('<product>') && unmarked.endsWith('<answer>')).toBe(true);
      expect(rec.chosen).toBe(`<L:${prefs[i].gold}>`);
      expect(rec.rejected).toBe('<L:Significant>');
    });
  });
});

describe('minePreferences on a CoT model (beam search)', () => {
  it('takes the rationale+label beams: rejected parses to the wrong top-1, chosen to the gold label', async () => {
    await initBackend('wasm');
    const fx = dpoFixture(40, 9, 'ee');
    // 80 positions (not the smoke preset's 32) so the prompt, with its {match} line, leaves room for
    // a rationale. (At 64 this toy model's second beam was a bare <eos> on every pair: no gold beam.)
    const C = 80;
    // 13 new tokens hold "<rationale> other brand<answer><L:x><eos>" (13 tokens at this vocabulary);
    // one more of slack: with one <hl> per word the prompts changed, and one gold beam of the tiny
    // model spelt "other" as "fither", a piece longer, and ran out of room before <eos>.
    const maxNewTokens = 14;
    // SFT a tiny CoT model on a prior: 4 of 5 answers Significant ("fits"), 1 of 5 Marginal ("other brand").
    // Its prompts are fitted as minePreferences fits them (room for maxNewTokens), so the model is
    // asked on exactly the prompts it learnt: with the <hl> marks the highlighted query alone
    // overflows the context, and a prompt cut elsewhere than in training drew bare <eos> beams.
    const answers = fx.pairs.map((_, i) => (i % 5 === 4 ? { label: 'Marginal', why: 'other brand' } : { label: 'Significant', why: 'fits' }));
    const room = new Array<number>(maxNewTokens).fill(fx.tok.eosId);
    const examples = fx.pairs.map((p, i) => {
      const completion = encodeCompletion(fx.tok, fx.template, answers[i].label, answers[i].why);
      expect(completion.length).toBeLessThanOrEqual(maxNewTokens);
      return { prompt: fitToContext(encodePrompt(fx.tok, fx.template, p), room, C, fx.tok).promptIds, completion };
    });
    const model = new DecoderLM({ ...fx.ctx.modelConfig, contextLength: C, seed: 3 });
    trainLM(model, examples, TrainConfig.parse({ steps: 80, batchSize: 8, warmup: 5, lr: 1e-2, weightDecay: 0, seed: 2 })).optimizer.dispose();
    const rm = { model, tokenizer: fx.tok, scheme: LREF5, template: fx.template };
    const gold = fx.pairs.map((p, i) => ({ ...p, label: i % 2 === 0 ? 'Marginal' : 'Significant', rationales: { ee: 'gold reason' } }));

    const prefs = minePreferences(fx.ctx, rm, gold, { beamWidth: 4, maxNewTokens });
    expect(prefs.length).toBeGreaterThanOrEqual(15); // the Marginal-gold half, answered Significant
    // decoded one pair at a time: the same pairs (mining decodes 32 pairs together by default)
    expect(minePreferences(fx.ctx, rm, gold, { beamWidth: 4, maxNewTokens, decodeBatchSize: 1 })).toEqual(prefs);
    const eos = fx.tok.eosId;
    for (const p of prefs) {
      expect(parseAnswer(p.rejected, LREF5, fx.tok)).toEqual({ label: p.rejected_label });
      expect(parseAnswer(p.chosen, LREF5, fx.tok)).toEqual({ label: p.gold });
      expect(p.chosen.at(-1)).toBe(eos);
      expect(p.prompt.length + Math.max(p.chosen.length, p.rejected.length)).toBeLessThanOrEqual(C);
    }
    const fromBeam = prefs.filter((p) => p.chosen_rank !== null);
    expect(fromBeam.length).toBeGreaterThan(0);
    const teacher = prefs.filter((p) => p.chosen_rank === null);
    // the teacher's rationale, shortened from its end where the prompt leaves less room
    for (const p of teacher) expect(fx.tok.decode(p.chosen)).toMatch(new RegExp(`^<rationale> gold( re?a?s?o?n?)?<answer><L:${p.gold}><eos>$`));
    model.dispose();
  });

  it('answer-first: ranks the grades at the answer position; chosen = the gold grade + the policy’s own rationale for it', async () => {
    await initBackend('wasm');
    const fx = dpoFixture(40, 9, 'ee');
    const template = { ...fx.template, answerFirst: true };
    const C = 80;
    const maxNewTokens = 14;
    // The same 4:1 prior as above, answer first: "<answer><L:x><rationale> why<eos>".
    const answers = fx.pairs.map((_, i) => (i % 5 === 4 ? { label: 'Marginal', why: 'other brand' } : { label: 'Significant', why: 'fits' }));
    const room = new Array<number>(maxNewTokens).fill(fx.tok.eosId);
    const examples = fx.pairs.map((p, i) => ({
      prompt: fitToContext(encodePrompt(fx.tok, template, p), room, C, fx.tok).promptIds,
      completion: encodeCompletion(fx.tok, template, answers[i].label, answers[i].why),
    }));
    const model = new DecoderLM({ ...fx.ctx.modelConfig, contextLength: C, seed: 3 });
    trainLM(model, examples, TrainConfig.parse({ steps: 80, batchSize: 8, warmup: 5, lr: 1e-2, weightDecay: 0, seed: 2 })).optimizer.dispose();
    const rm = { model, tokenizer: fx.tok, scheme: LREF5, template };
    const gold = fx.pairs.map((p, i) => ({ ...p, label: i % 2 === 0 ? 'Marginal' : 'Significant', rationales: { ee: 'gold reason' } }));

    const prefs = minePreferences(fx.ctx, rm, gold, { beamWidth: 4, maxNewTokens });
    expect(prefs.length).toBeGreaterThanOrEqual(15);
    expect(minePreferences(fx.ctx, rm, gold, { beamWidth: 4, maxNewTokens, decodeBatchSize: 1 })).toEqual(prefs);
    const answer = fx.tok.tokenId('<answer>');
    for (const p of prefs) {
      // both sides start <answer><L:x> and are read as predictions are
      expect(p.rejected.slice(0, 2)).toEqual([answer, fx.tok.tokenId(labelToken(p.rejected_label!))]);
      expect(p.chosen.slice(0, 2)).toEqual([answer, fx.tok.tokenId(labelToken(p.gold))]);
      expect(p.chosen_rank).toBe(2); // Marginal is the model's second grade everywhere (the 1-in-5 prior)
      // the policy's own rationale after the gold grade, not the teacher's "gold reason"
      expect(fx.tok.decode(p.chosen)).not.toMatch(/gold/);
      expect(p.chosen.at(-1)).toBe(fx.tok.eosId);
      expect(p.prompt.length + Math.max(p.chosen.length, p.rejected.length)).toBeLessThanOrEqual(C);
    }
    // answerFirstPrefers 'grade': the same pairs, compared on the decision alone
    const grades = minePreferences(fx.ctx, rm, gold, { beamWidth: 4, maxNewTokens, answerFirstPrefers: 'grade' });
    expect(grades.map((p) => [p.pair_id, p.chosen_rank])).toEqual(prefs.map((p) => [p.pair_id, p.chosen_rank]));
    grades.forEach((p, i) => {
      expect(p.chosen).toEqual(prefs[i].chosen.slice(0, 2));
      expect(p.rejected).toEqual(prefs[i].rejected.slice(0, 2));
    });
    model.dispose();
  });

  it('refuses a DR template (its prompt carries a wrong decision)', async () => {
    const fx = dpoFixture(5, 1, 'dr');
    const rm = { model: new DecoderLM(fx.ctx.modelConfig), tokenizer: fx.tok, scheme: LREF5, template: fx.template };
    expect(() => minePreferences(fx.ctx, rm, fx.pairs)).toThrow(UserError);
    rm.model.dispose();
  });
});
