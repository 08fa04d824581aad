import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const evalCommand: Command = {
  name: 'eval',
  summary: '(not built yet)',
  usage: 'eval',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref eval is not built yet');
  },
};
