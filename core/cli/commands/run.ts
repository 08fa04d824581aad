import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const runCommand: Command = {
  name: 'run',
  summary: '(not built yet)',
  usage: 'run',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref run is not built yet');
  },
};
