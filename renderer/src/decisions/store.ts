import { create } from 'zustand';
import type { DecisionTable } from '../../../core/analysis/decisions.ts';
import type { ResultOf } from '../../../core/app/contract.ts';
import type { DecisionViewState } from './view-state.ts';

/** The open decision view: the loaded table, the URL-backed view state, marks and the open pair. */
export interface DecisionsState {
  table?: DecisionTable;
  view?: DecisionViewState;
  marks: ResultOf<'review.list'>['marks'];
  detail?: ResultOf<'decisions.pair'> & { pair_id: string };
  loading: boolean;
  error?: string;
}

export const useDecisions = create<DecisionsState>(() => ({ marks: {}, loading: false }));
