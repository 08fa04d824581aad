import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { optInt, optString } from '../args.ts';
import { main } from '../main.ts';

/**
 * `lref demo`: the whole loop headless, so a newcomer (or a machine with no browser) sees it work:
 * synthetic pairs → SFT of the tiny model → held-out metrics.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'The headless demo: synthesise data, train the tiny model, evaluate',
  usage: 'demo [--pairs N] [--steps N] [--out DIR]',
  examples: ['lref demo', 'lref demo --pairs 5000 --steps 300 --out /tmp/demo'],
  options: {
    pairs: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
  },
  optionHelp: {
    pairs: 'synthetic pairs to generate (default 5000)',
    steps: 'training steps (default 300)',
    out: 'folder for the data, model and metrics (default: a new temp folder)',
  },
  async run(args, io) {
    const pairs = optInt(args, 'pairs', 5000, 100);
    const steps = optInt(args, 'steps', 300, 1);
    const out = optString(args, 'out') ?? mkdtempSync(join(tmpdir(), 'lref-demo-'));
    io.out(`LREF Workbench — headless demo in ${out}`);
    const data = join(out, 'synthetic.jsonl');
    const synth = await main(['data', 'synth', '--out', data, '--pairs', String(pairs)], io);
    if (synth !== 0) return synth;
    return main(['train', '--data', data, '--preset', 'tiny', '--steps', String(steps), '--out', join(out, 'model')], io);
  },
};
