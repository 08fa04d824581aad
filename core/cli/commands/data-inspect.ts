import type { Command } from '../command.ts';
import { optBool, optString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { FORMATS, loadDataset } from '../../data/load.ts';
import { formatStats, inspectDataset } from '../../data/inspect.ts';

export const dataInspectCommand: Command = {
  name: 'data inspect',
  summary: 'Summarise a data file: counts, label mix, head/torso/tail, lengths',
  usage: 'data inspect FILE [--format F] [--products FILE] [--scheme S] [--json]',
  examples: [
    'lref data inspect ../shared/data/homedepot/train.csv',
    'lref data inspect ../shared/data/crowdflower/train.csv --format crowdflower --json',
    'lref data inspect esci/examples.csv --format esci --products esci/products.csv',
  ],
  options: {
    format: { type: 'string' },
    products: { type: 'string' },
    scheme: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    format: `one of ${FORMATS.join(', ')} (default: detected from the file)`,
    products: 'ESCI only: the products file, joined by product_id',
    scheme: 'jsonl only: the label scheme (default: inferred from the labels)',
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
    io.out(optBool(args, 'json') ? JSON.stringify(stats) : formatStats(stats));
    return 0;
  },
};
