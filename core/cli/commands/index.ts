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
import { demoCommand } from './demo.ts';
import { appCommand } from './app.ts';
import { exportCommand } from './export.ts';
import { serveCommand } from './serve.ts';
import { runsDiffCommand, runsListCommand, runsShowCommand } from './runs.ts';
import { importPredictionsCommand } from './import-predictions.ts';
import { judgeCommand } from './judge.ts';
import { modelExportCommand, modelImportCommand, modelInspectCommand } from './model.ts';

/** Every `lref` command, in the order --help lists them. */
export const COMMANDS: Command[] = [
  appCommand,
  dataSynthCommand,
  dataInspectCommand,
  trainCommand,
  pretrainCommand,
  modelImportCommand,
  modelInspectCommand,
  modelExportCommand,
  pipelineCommand,
  studyCommand,
  evalCommand,
  runsListCommand,
  runsShowCommand,
  runsDiffCommand,
  importPredictionsCommand,
  judgeCommand,
  exportCommand,
  serveCommand,
  runCommand,
  benchCommand,
  demoCommand,
];
