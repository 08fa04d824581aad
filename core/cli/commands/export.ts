import type { Command } from '../command.ts';
import { optBool, optString, reqString } from '../args.ts';
import { exportBundle, verifyBundle } from '../../export/bundle.ts';
import { exportLlamaFactory, exportTrl } from '../../export/trainers.ts';
import { UserError } from '../../util/errors.ts';

const TARGETS = ['bundle', 'trl', 'llamafactory'] as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a run: a servable bundle of one variant, or its stage datasets + configs for TRL / LLaMA-Factory',
  usage: 'export RUN --to bundle|trl|llamafactory --out DIR [--variant V] [--json]   |   export --verify BUNDLE',
  examples: [
    'lref export runs/r1 --variant sft_selected --to bundle --out /tmp/bundle',
    'lref export --verify /tmp/bundle',
    'lref export runs/r1 --to trl --out /tmp/trl',
    'lref export runs/r1 --to llamafactory --out /tmp/lf',
  ],
  options: {
    to: { type: 'string' },
    out: { type: 'string' },
    variant: { type: 'string' },
    verify: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    to: `what to write: ${TARGETS.join(', ')}`,
    out: 'the output folder (must not exist or be empty; written whole or not at all)',
    variant: 'bundle: the variant to export (choose it on the valid split)',
    verify: 'check a bundle against its manifest (sizes and sha256 of every file) instead of exporting',
    json: 'print one JSON line',
  },
  async run(args, io) {
    const json = optBool(args, 'json');
    const verify = optString(args, 'verify');
    if (verify) {
      const r = verifyBundle(verify);
      if (json) io.out(JSON.stringify({ bundle: verify, ...r }));
      else if (r.ok) io.out(`${verify}: ok, ${r.files} files match the manifest`);
      else io.out(`${verify}: ${r.problems.length} problem(s):\n${r.problems.map((p) => `  ${p}`).join('\n')}`);
      return r.ok ? 0 : 1;
    }
    const run = args.positionals[0];
    if (!run) throw new UserError('RUN (a run folder) is required');
    const to = reqString(args, 'to');
    const out = reqString(args, 'out');
    if (to === 'bundle') {
      const variant = optString(args, 'variant');
      if (!variant) throw new UserError('--variant is required with --to bundle (pick it on the valid split; `lref runs show RUN` lists the variants)');
      const r = await exportBundle(run, { variant, out });
      if (json) io.out(JSON.stringify({ out, name: r.info.name, files: r.manifest.files.length }));
      else io.out(`bundle ${r.info.name}: ${r.manifest.files.length} files in ${out} (check with \`lref export --verify ${out}\`)`);
      return 0;
    }
    if (to !== 'trl' && to !== 'llamafactory') throw new UserError(`--to must be one of ${TARGETS.join(', ')}, got "${to}"`);
    const r = to === 'trl' ? await exportTrl(run, out) : await exportLlamaFactory(run, out);
    if (json) io.out(JSON.stringify({ out, to, counts: r.counts }));
    else io.out(`${to}: ${r.counts.sft} SFT, ${r.counts.cot} Multi-CoT, ${r.counts.dpo} DPO examples in ${out} (see its README.md)`);
    return 0;
  },
};
