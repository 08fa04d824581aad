import type { Command } from '../command.ts';
import { UserError } from '../../util/errors.ts';

// PLACEHOLDER: replaced by the real command. Exits 2 with a clear message until then.
export const trainCommand: Command = {
  name: 'train',
  summary: '(not built yet)',
  usage: 'train',
  examples: [],
  options: {},
  optionHelp: {},
  async run() {
    throw new UserError('lref train is not built yet');
  },
};
