import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const dataInspectCommand: Command = {
  name: 'data inspect',
  summary: '(not built yet)',
  usage: 'data inspect',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref data inspect is not built yet');
  },
};
