import type { Command } from '../command.ts';
import { dataSynthCommand } from './data-synth.ts';
import { dataInspectCommand } from './data-inspect.ts';
import { trainCommand } from './train.ts';
import { pipelineCommand } from './pipeline.ts';
import { studyCommand } from './study.ts';
import { pretrainCommand } from './pretrain.ts';
import { evalCommand } from './eval.ts';
import { runCommand } from './run.ts';
import { benchCommand } from './bench.ts';
import { startCommand } from './start.ts';

/** Every `lref` command, in the order --help lists them. */
export const COMMANDS: Command[] = [
  dataSynthCommand,
  dataInspectCommand,
  trainCommand,
  pretrainCommand,
  pipelineCommand,
  studyCommand,
  evalCommand,
  runCommand,
  benchCommand,
  startCommand,
];
