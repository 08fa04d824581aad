import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const dataSynthCommand: Command = {
  name: 'data synth',
  summary: '(not built yet)',
  usage: 'data synth',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref data synth is not built yet');
  },
};
