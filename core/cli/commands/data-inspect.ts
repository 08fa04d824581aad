import type { Command } from '../command.ts';
import { optBool, optInt, optString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { FORMATS, loadDataset } from '../../data/load.ts';
import { formatStats, inspectDataset } from '../../data/inspect.ts';
import { sample } from '../../data/split.ts';
import { trainRunTokenizer } from '../../stages/relevance-model.ts';
import { loadTemplate } from '../../text/prompts.ts';
import { describePromptFit, promptFit } from '../../text/prompt-fit.ts';
import { Rng } from '../../util/rng.ts';
import { loadPipelineConfig } from '../../stages/pipeline-config.ts';
import { makeModelConfig } from '../../stages/pipeline.ts';

/** Pairs sampled to train the probe tokenizer and to measure the prompts (bounded time on big files). */
const FIT_SAMPLE = 3000;

export const dataInspectCommand: Command = {
  name: 'data inspect',
  summary: 'Summarise a data file: counts, label mix, head/torso/tail, lengths',
  usage: 'data inspect FILE [--format F] [--products FILE] [--scheme S] [--context N] [--vocab N] [--json]',
  examples: [
    'lref data inspect ../shared/data/homedepot/train.csv',
    'lref data inspect ../shared/data/crowdflower/train.csv --format crowdflower --json',
    'lref data inspect esci/examples.csv --format esci --products esci/products.csv',
  ],
  options: {
    format: { type: 'string' },
    products: { type: 'string' },
    scheme: { type: 'string' },
    context: { type: 'string' },
    vocab: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    format: `one of ${FORMATS.join(', ')} (default: detected from the file)`,
    products: 'ESCI only: the products file, joined by product_id',
    scheme: 'jsonl only: the label scheme (default: inferred from the labels)',
    context: 'the model context the prompts must fit (default: the default pipeline preset’s; 0 skips the prompt check)',
    vocab: 'the tokenizer vocabulary to measure prompts with (default: the default pipeline preset’s)',
    json: 'print one JSON object instead of the table',
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError(`expected one FILE, got ${args.positionals.length}\n\nUsage: lref ${this.usage}`);
    const ds = await loadDataset(args.positionals[0], {
      format: optString(args, 'format'),
      products: optString(args, 'products'),
      scheme: optString(args, 'scheme'),
    });
    const stats = inspectDataset(ds);
    // Defaults are what `lref pipeline` would use, so the cut share here is the one a run reports.
    const preset = loadPipelineConfig({ preset: 'default' });
    const vocab = optInt(args, 'vocab', preset.tokenizer.vocabSize, 300, 1 << 16);
    const context = optInt(args, 'context', makeModelConfig(preset, vocab).contextLength, 0, 1 << 16);
    // The label prompt as a run would build it: a tokenizer trained on a sample, then the share of
    // prompts that must be cut to fit the context (a cut prompt hides the end of its product text).
    let fit: ReturnType<typeof promptFit> | undefined;
    if (context > 0) {
      const rng = new Rng(1).fork('inspect/prompts');
      const probe = sample(ds.pairs, FIT_SAMPLE, rng);
      const template = loadTemplate('label');
      fit = promptFit(trainRunTokenizer(probe, [template], vocab), template, probe, context);
    }
    if (optBool(args, 'json')) io.out(JSON.stringify(fit ? { ...stats, prompt_fit: fit } : stats));
    else io.out(formatStats(stats) + (fit ? `\n\n${describePromptFit(fit, `prompts (${fit.pairs} sampled pairs)`)}` : ''));
    return 0;
  },
};
