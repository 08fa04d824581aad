import { create } from 'zustand';
import type { FileVersion, ResultOf } from '../../../core/app/contract.ts';
import type { CellRun } from '../../../core/kernel/cell-state.ts';

/** The open prompt template, its check, and the comparison run in flight. */
export interface PromptState {
  path?: string;
  text: string;
  version?: FileVersion;
  dirty: boolean;
  check?: ResultOf<'template.check'>;
  run?: ResultOf<'prompts.compare'> & { cell: CellRun };
}

export const usePrompt = create<PromptState>(() => ({ text: '', dirty: false }));
