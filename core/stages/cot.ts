import { z } from 'zod';
import type { PairRecord } from '../data/schema.ts';
import type { CausalLM } from '../model/lm.ts';
import type { LMExample } from '../train/batch.ts';
import { makeOptimizer, trainLM } from '../train/loop.ts';
import { loadTemplate, type PromptTemplate } from '../text/prompts.ts';
import { COT_KINDS, type CotKind, type Teacher } from '../teachers/teacher.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { trainConfigFor, type StageContext } from './context.ts';
import { collectRationales, cotExamples, MIN_PRODUCT_TOKENS, type CotExampleOptions, type CotExampleStats, type CotRationale } from './cot-data.ts';
import { labelExamples, type RelevanceModel } from './relevance-model.ts';

export { collectRationales, cotExamples, fitCot, MIN_PRODUCT_TOKENS, type CotRationale, type CotExampleStats, type CotExampleOptions } from './cot-data.ts';
export { predictWithRationale, readCotOutput, unparseableSummary, type CotPrediction, type PredictCotOptions } from './cot-predict.ts';

/**
 * LREF stage 2, Multi-CoT tuning: a teacher writes EE / RA / DR rationales for the training pairs,
 * and the stage-1 model is fine-tuned further to write `<rationale> … <answer><L:gold><eos>` (or, with
 * answerFirst, `<answer><L:gold><rationale> …<eos>`).
 */
export const CotConfig = z
  .object({
    version: z.literal(1).default(1),
    /** kinds to train, in order; LREF's ablation adds EE, then RA, then DR (the order is "unverified" in our notes) */
    order: z
      .array(z.enum(COT_KINDS as [CotKind, ...CotKind[]]))
      .min(1)
      .default(['ee', 'ra', 'dr'])
      .refine((o) => new Set(o).size === o.length, { message: 'a kind may appear once' }),
    /**
     * 'sequential' (default, the paper's reading): each kind continues from the previous kind's model;
     * the variants +ee, +ra, +dr are the checkpoints after each. 'mixed': one run on the union of all
     * kinds (steps × number of kinds), one variant.
     */
    mix: z.enum(['sequential', 'mixed']).default('sequential'),
    /** optimizer steps per kind (default: the run's trainConfig.steps); not tuned here */
    steps: z.number().int().min(1).optional(),
    /** peak learning rate (default: the run's trainConfig.lr) */
    lr: z.number().positive().optional(),
    /**
     * Share of label-only examples (label template → `<L:gold><eos>`) in each run's data. 0.25: the
     * fast scoring path (predictLabels) reads the label template; without any such examples, CoT
     * tuning lets its calibration drift, and a quarter keeps it in use without crowding out the
     * rationales. Our choice; the paper does not discuss it.
     */
    keepLabelOnly: z.number().min(0).max(0.9).default(0.25),
    /**
     * Where the grade goes in the CoT completion (PromptTemplate.answerFirst). Unset: as the templates
     * say (the built-in ones: after the rationale, as LREF). true: grade first, rationale after it as
     * the explanation (TaoSR1's label-first "post-CoT"); false: after the rationale, whatever the
     * templates say.
     */
    answerFirst: z.boolean().optional(),
    /**
     * Also train "+label": the stage-1 model fine-tuned on the same pairs for the same steps as the
     * first CoT kind, with label-only completions. The control that tells what the rationales add
     * from what more steps on these pairs' labels add (each CoT example carries the gold label too).
     * Not in the paper; off by default.
     */
    control: z.boolean().default(false),
    /** product tokens a CoT prompt keeps before the rationale is shortened to fit (see cotExamples) */
    minProductTokens: z.number().int().min(0).default(MIN_PRODUCT_TOKENS),
    /** teacher requests in flight at once */
    concurrency: z.number().int().min(1).default(4),
    /** CoT prompt templates per kind: built-in id or JSON file (default the built-in of the same name) */
    templates: z.object({ ee: z.string(), ra: z.string(), dr: z.string() }).partial().default({}),
    /** rules text shown in RA prompts (default the RA template's compact rules, sized for 128 tokens) */
    rules: z.string().min(1).optional(),
    /** rules text sent to the teacher with RA requests (default `rules`, else the template's) */
    teacherRules: z.string().min(1).optional(),
  })
  .strict();
export type CotConfig = z.infer<typeof CotConfig>;
export type CotConfigInput = z.input<typeof CotConfig>;

export function parseCotConfig(input: unknown, source = 'cot config'): CotConfig {
  const parsed = CotConfig.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export interface CotVariant<J = RelevanceModel> {
  /** "+ee", "+ra", "+dr", or "+cot" for a mixed run */
  name: string;
  kind: CotKind | 'mixed';
  /** scoring-ready: for the built-in model its `template` is the label template, so predictLabels works unchanged */
  model: J;
  /** the prompt to generate with (predictWithRationale); see inferenceKind */
  cotTemplate: PromptTemplate;
  /** rules text for RA prompts (undefined: the template's) */
  rules?: string;
  losses: number[];
  examples: { cot: number; labelOnly: number } & CotExampleStats;
  /** the pairs its CoT examples were made from, in order (what the +label control must match) */
  pairs: string[];
}

export interface CotResult<J = RelevanceModel> {
  variants: CotVariant<J>[];
  /** cfg.control: "+label", label-only SFT on the same pairs for one kind's steps (scored, no rationale) */
  control?: { model: J; losses: number[]; pairs: string[]; examples: number };
  /** every rationale the teacher wrote, by kind (for pairs.jsonl / inspection) */
  rationales: Partial<Record<CotKind, CotRationale[]>>;
  teacher: string;
}

/**
 * What a CoT run needs of a model family beyond CausalLM: how its examples are encoded and how a
 * trained model becomes a judge. The built-in decoder uses the run tokenizer and prompt templates
 * (runCot); an imported model renders prompts through its own chat template (hf-cot.ts).
 */
export interface CotEncoding<M extends CausalLM, J> {
  /** training examples of `kind` (prompt → rationale and grade), fitted to the context; `opts.stats` counts the cuts */
  cotExamples(kind: CotKind, pairs: readonly PairRecord[], rationales: readonly CotRationale[], template: PromptTemplate, opts: CotExampleOptions): LMExample[];
  /** label-only examples (label prompt → gold grade), the share that keeps scoring in use */
  labelExamples(pairs: readonly PairRecord[]): LMExample[];
  padId: number;
  /** the model's context, for the log */
  contextLength: number;
  /** a trained model as the family's judge */
  judge(model: M): J;
}

/** The part of StageContext a CoT run reads (no run tokenizer: the encoding brings its own). */
export type CotContext = Pick<StageContext, 'scheme' | 'trainConfig' | 'seed' | 'progress' | 'log' | 'signal'>;

/**
 * The prompt a checkpoint is asked with at inference. EE and RA models use their own prompt. A DR
 * prompt needs a wrong decision, which does not exist at inference, so a model whose last kind was DR
 * is asked with the most recent other kind it learnt (RA in the default EE → RA → DR), else EE.
 */
export function inferenceKind(trained: readonly CotKind[]): CotKind {
  const last = trained[trained.length - 1];
  if (last !== 'dr') return last;
  return [...trained].reverse().find((k) => k !== 'dr') ?? 'ee';
}

/**
 * Runs stage 2 on `train` from the stage-1 model `base` (never modified). Rationales are collected
 * for every kind first (a failing teacher stops the stage before any training), then trained in
 * `cfg.order`. On failure every model made here is disposed.
 */
export async function runCot(
  ctx: StageContext,
  base: RelevanceModel,
  train: readonly PairRecord[],
  cfgInput: CotConfigInput | CotConfig,
  teacher: Teacher,
): Promise<CotResult> {
  // The examples are fitted to ctx and tokenised by ctx.tokenizer; the base model must match both.
  if (base.model.config.contextLength !== ctx.modelConfig.contextLength || base.model.config.vocabSize !== ctx.tokenizer.vocabSize) {
    throw new UserError(
      `cot: the base model (context ${base.model.config.contextLength}, vocab ${base.model.config.vocabSize}) does not match the run ` +
        `(context ${ctx.modelConfig.contextLength}, tokenizer vocab ${ctx.tokenizer.vocabSize})`,
    );
  }
  const labelTemplate = base.template.kind === 'label' ? base.template : loadTemplate('label');
  const C = ctx.modelConfig.contextLength;
  return runCotWith(ctx, base.model, train, cfgInput, teacher, {
    cotExamples: (kind, pairs, rs, template, opts) => cotExamples(ctx, kind, pairs, rs, template, opts),
    labelExamples: (pairs) => labelExamples(ctx.tokenizer, labelTemplate, pairs, pairs.map((p) => p.label), C),
    padId: ctx.tokenizer.padId,
    contextLength: C,
    judge: (model) => ({ model, tokenizer: ctx.tokenizer, scheme: ctx.scheme, template: labelTemplate }),
  });
}

/** runCot on any model family: `enc` encodes the examples and wraps each trained model (see CotEncoding). */
export async function runCotWith<M extends Omit<CausalLM, 'clone'> & { clone(): M }, J>(
  ctx: CotContext,
  base: M,
  train: readonly PairRecord[],
  cfgInput: CotConfigInput | CotConfig,
  teacher: Teacher,
  enc: CotEncoding<M, J>,
): Promise<CotResult<J>> {
  const cfg = parseCotConfig(cfgInput);
  if (train.length === 0) throw new UserError('cot: no training pairs');
  const rng = new Rng(ctx.seed).fork('cot');
  const templates = new Map<CotKind, PromptTemplate>();
  for (const kind of COT_KINDS) {
    const t = loadTemplate(cfg.templates[kind] ?? kind);
    if (t.kind !== kind) throw new UserError(`cot: templates.${kind}: template "${t.id}" is kind ${t.kind}`);
    templates.set(kind, cfg.answerFirst === undefined ? t : { ...t, answerFirst: cfg.answerFirst });
  }
  const rules = cfg.rules;
  const teacherRules = cfg.teacherRules ?? rules ?? templates.get('ra')!.defaults?.rules;

  // 1. Rationales, and the CoT examples they make.
  const rationales: Partial<Record<CotKind, CotRationale[]>> = {};
  const data = new Map<CotKind, { examples: LMExample[]; stats: CotExampleStats; pairs: string[] }>();
  for (const kind of cfg.order) {
    const rs = await collectRationales(ctx, train, kind, teacher, rng.fork(`teacher/${kind}`), { concurrency: cfg.concurrency, rules: teacherRules });
    rationales[kind] = rs;
    const stats: CotExampleStats = { promptCut: 0, rationaleCut: 0 };
    const examples = enc.cotExamples(kind, train, rs, templates.get(kind)!, { rules, stats, minProductTokens: cfg.minProductTokens });
    data.set(kind, { examples, stats, pairs: rs.map((r) => r.pair_id) });
    ctx.log?.(
      `cot/${kind}: ${rs.length} rationales from ${teacher.id}, mean ${mean(examples.map((e) => e.completion.length)).toFixed(1)} completion tokens; ` +
        `${stats.promptCut} prompts shortened, ${stats.rationaleCut} rationales shortened to fit ${enc.contextLength} tokens`,
    );
  }

  // 2. Training runs: one per kind (sequential) or one on the union (mixed).
  const runs =
    cfg.mix === 'sequential'
      ? cfg.order.map((kind, i) => ({ name: `+${kind}`, kind: kind as CotKind | 'mixed', kinds: [kind], trained: cfg.order.slice(0, i + 1) }))
      : [{ name: '+cot', kind: 'mixed' as const, kinds: cfg.order, trained: cfg.order }];
  const variants: CotVariant<J>[] = [];
  const made: M[] = [];
  let from = base;
  try {
    for (const [i, run] of runs.entries()) {
      const cot = run.kinds.flatMap((k) => data.get(k)!.examples);
      const labelOnly = labelOnlyExamples(enc, train, cot.length, cfg.keepLabelOnly, rng.fork(`label-only/${i}`));
      const steps = (cfg.steps ?? ctx.trainConfig.steps) * run.kinds.length;
      const model = from.clone();
      made.push(model);
      const losses = trainOne(ctx, model, enc.padId, [...cot, ...labelOnly], steps, cfg.lr, i + 1, `cot/${run.name.slice(1)}`);
      ctx.log?.(`cot/${run.name.slice(1)}: ${steps} steps on ${cot.length} CoT + ${labelOnly.length} label-only examples, loss ${losses[0]?.toFixed(3)} → ${mean(losses.slice(-10)).toFixed(3)}`);
      variants.push({
        name: run.name,
        kind: run.kind,
        model: enc.judge(model),
        cotTemplate: templates.get(inferenceKind(run.trained))!,
        ...(rules !== undefined ? { rules } : {}),
        losses,
        examples: { cot: cot.length, labelOnly: labelOnly.length, ...sumStats(run.kinds.map((k) => data.get(k)!.stats)) },
        pairs: run.kinds.flatMap((k) => data.get(k)!.pairs),
      });
      from = model;
    }
    let control: CotResult<J>['control'];
    if (cfg.control) {
      // Same pairs, same number of examples per step and steps as the first kind's run, no rationale.
      const model = base.clone();
      made.push(model);
      const examples = enc.labelExamples(train);
      const steps = cfg.steps ?? ctx.trainConfig.steps;
      const losses = trainOne(ctx, model, enc.padId, examples, steps, cfg.lr, 9, 'cot/label');
      ctx.log?.(`cot/label (control): ${steps} steps on ${examples.length} label-only examples, loss ${losses[0]?.toFixed(3)} → ${mean(losses.slice(-10)).toFixed(3)}`);
      control = { model: enc.judge(model), losses, pairs: train.map((p) => p.pair_id), examples: examples.length };
    }
    return { variants, rationales, teacher: teacher.id, ...(control ? { control } : {}) };
  } catch (err) {
    for (const m of made) m.dispose();
    throw err;
  }
}

/** Label-only examples making up `share` of the run's data (drawn without replacement, cycling if needed). */
function labelOnlyExamples(enc: Pick<CotEncoding<CausalLM, unknown>, 'labelExamples'>, train: readonly PairRecord[], cotCount: number, share: number, rng: Rng): LMExample[] {
  const n = share === 0 ? 0 : Math.round((cotCount * share) / (1 - share));
  if (n === 0) return [];
  const order = rng.shuffle(train.map((_, i) => i));
  return enc.labelExamples(Array.from({ length: n }, (_, k) => train[order[k % order.length]]));
}

function trainOne(ctx: CotContext, model: CausalLM, padId: number, examples: LMExample[], steps: number, lr: number | undefined, salt: number, stage: string): number[] {
  const cfg = trainConfigFor(ctx, { steps, ...(lr !== undefined ? { lr } : {}), warmup: Math.min(ctx.trainConfig.warmup, Math.floor(steps / 10)) }, salt);
  // Our own optimizer, so an interrupt thrown from onStep still lets us free its moment tensors.
  const optimizer = makeOptimizer(model, cfg);
  try {
    return trainLM(model, examples, cfg, {
      optimizer,
      batch: { padTo: 'longest', padId },
      onStep: (step, loss, tps) => {
        ctx.progress?.(stage, step + 1, steps, { loss: loss.toFixed(3), 'tok/s': tps.toFixed(0) });
        if (ctx.signal?.aborted) throw new UserError(`${stage}: interrupted at step ${step + 1} of ${steps}`);
      },
    }).losses;
  } finally {
    optimizer.dispose();
  }
}

function sumStats(stats: readonly CotExampleStats[]): CotExampleStats {
  return { promptCut: stats.reduce((a, s) => a + s.promptCut, 0), rationaleCut: stats.reduce((a, s) => a + s.rationaleCut, 0) };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Frees every variant's weights (the base model is the caller's). */
export function disposeCot(result: CotResult<{ model: { dispose(): void } }>): void {
  for (const v of result.variants) v.model.model.dispose();
  result.control?.model.model.dispose();
}

