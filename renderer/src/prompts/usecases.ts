import type { ResultOf } from '../../../core/app/contract.ts';
import { toast, useApp } from '../state/store.ts';
import { core, refreshTree } from '../usecases.ts';
import { usePrompt } from './store.ts';
import { idleCell, transitionCell } from '../../../core/kernel/cell-state.ts';
import type { AppEvent } from '../../../core/app/contract.ts';
import { openDecisions } from '../decisions/usecases.ts';

/** Follows the comparison's kernel messages; when it finishes, its run opens in the decision matrix. */
export function onPromptEvent(e: AppEvent): void {
  const run = usePrompt.getState().run;
  if (!run || !('cell_id' in e) || e.cell_id !== run.cell_id || e.path !== run.path) return;
  if (e.type === 'cell.aborted') return usePrompt.setState({ run: { ...run, cell: { ...run.cell, phase: 'error' } } });
  if (e.type !== 'kernel.message') return;
  const m = e.message;
  const next = transitionCell(run.cell, m);
  usePrompt.setState({ run: { ...run, cell: next } });
  if (m.type === 'status' && m.state === 'idle' && next.phase !== 'error') {
    void openDecisions({ runs: [run.out], filters: {}, sort: { by: 'table' }, desc: false });
  }
}

/** Prompt prototyping: open, check as you type, save, and compare templates in a kernel. */
export async function openTemplate(path: string): Promise<void> {
  try {
    const r = await core().call('template.read', { path });
    usePrompt.setState({ path, text: r.text, version: r.version, dirty: false, run: undefined });
    useApp.setState({ page: 'prompt' });
    history.replaceState(null, '', `#${new URLSearchParams({ view: 'prompt', path }).toString()}`);
    await checkTemplate(r.text);
  } catch (e) {
    toast(`Cannot open ${path}: ${(e as Error).message}`, 'error');
  }
}

/** A new template in prompts/, starting from the built-in label template. */
export async function newTemplate(name: string, from: string): Promise<void> {
  const id = name.replace(/\.json$/, '').split('/').pop()!;
  const path = name.includes('/') ? (name.endsWith('.json') ? name : `${name}.json`) : `prompts/${id}.json`;
  const base = JSON.parse(from) as Record<string, unknown>;
  try {
    await core().call('template.save', { path, text: JSON.stringify({ ...base, id }, null, 2) + '\n', base: null });
    await refreshTree();
    await openTemplate(path);
  } catch (e) {
    toast(`Cannot create ${path}: ${(e as Error).message}`, 'error');
  }
}

let checkSeq = 0;
export async function checkTemplate(text: string): Promise<void> {
  const seq = ++checkSeq;
  const check = await core().call('template.check', { text });
  if (seq === checkSeq) usePrompt.setState({ check });
}

export function editTemplate(text: string): void {
  usePrompt.setState({ text, dirty: true });
  void checkTemplate(text);
}

export async function saveTemplate(): Promise<void> {
  const { path, text, version } = usePrompt.getState();
  if (!path) return;
  try {
    const r = await core().call('template.save', { path, text, base: version ?? null });
    usePrompt.setState({ version: r.version, dirty: false });
  } catch (e) {
    toast(`Save failed: ${(e as Error).message}`, 'error');
  }
}

/** A built-in template's JSON text, as shipped in core/text/templates/. */
export async function builtinTemplate(id = 'label'): Promise<string> {
  return (await core().call('template.builtin', { id })).text;
}

export async function compareTemplates(other: string, params: { pairs: number; steps: number; seed: number }): Promise<ResultOf<'prompts.compare'> | undefined> {
  const { text } = usePrompt.getState();
  try {
    const run = await core().call('prompts.compare', { templates: [other, text], ...params });
    usePrompt.setState({ run: { ...run, cell: transitionCell(idleCell(), { type: 'queued' }) } });
    return run;
  } catch (e) {
    toast(`Cannot compare: ${(e as Error).message}`, 'error');
    return undefined;
  }
}

