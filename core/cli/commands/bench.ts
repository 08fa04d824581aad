import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const benchCommand: Command = {
  name: 'bench',
  summary: '(not built yet)',
  usage: 'bench',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref bench is not built yet');
  },
};
