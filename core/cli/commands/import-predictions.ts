import type { Command } from '../command.ts';
import { optBool, reqString } from '../args.ts';
import { joinVariant, readImported } from '../../runs/join.ts';
import { UserError } from '../../util/errors.ts';

export const importPredictionsCommand: Command = {
  name: 'import-predictions',
  summary: 'Join an external system\'s predictions ({pair_id, label, rationale?} JSONL) to a run as a variant',
  usage: 'import-predictions FILE --run RUN --name NAME [--json]',
  examples: ['lref import-predictions vendor.jsonl --run runs/r1 --name vendor-v2'],
  options: { run: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    run: 'the run folder whose test pairs (pairs.jsonl) were graded',
    name: 'the new variant\'s name (must not exist in the run)',
    json: 'print one JSON line',
  },
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw new UserError('FILE (a predictions JSONL file) is required');
    const run = reqString(args, 'run');
    const preds = readImported(file, run);
    const r = joinVariant(run, reqString(args, 'name'), preds, { kind: 'import', source: file });
    if (optBool(args, 'json')) io.out(JSON.stringify(r));
    else {
      io.out(`${r.name}: ${r.answered} predictions joined run ${run}; macro-F1 ${(100 * r.macro_f1).toFixed(2)}, accuracy ${(100 * r.accuracy).toFixed(2)}`);
      if (r.missing > 0) io.out(`${r.missing} test pairs had no prediction and count as errors`);
    }
    return 0;
  },
};
