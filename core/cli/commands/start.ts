import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const startCommand: Command = {
  name: 'start',
  summary: '(not built yet)',
  usage: 'start',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref start is not built yet');
  },
};
