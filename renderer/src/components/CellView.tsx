import { lazy, memo, Suspense } from 'react';
import type { CellModel } from '../state/notebook.ts';
import { useApp } from '../state/store.ts';
import { Output } from '../outputs/Output.tsx';
import { markdownHtml } from '../outputs/sanitize.ts';
import { restart } from '../usecases.ts';
// Monaco is most of the bundle: the notebook shows its text at once and the editor arrives after.
const CodeEditor = lazy(() => import('./CodeEditor.tsx').then((m) => ({ default: m.CodeEditor })));

interface Props {
  cell: CellModel;
  index: number;
  selected: boolean;
  editing: boolean;
}

/** One cell: its prompt ([n], [*] running, [ ] queued), its editor or rendered Markdown, its outputs. */
export const CellView = memo(function CellView({ cell, index, selected, editing }: Props) {
  const dispatch = useApp((s) => s.dispatch);
  const phase = cell.run.phase;
  const prompt = cell.type !== 'code' ? '' : phase === 'running' ? '[*]' : phase === 'queued' ? '[ ]' : `[${cell.run.execution_count ?? ' '}]`;
  const select = () => {
    if (!selected) dispatch({ type: 'select', index });
  };
  const showMarkdownSource = cell.type === 'markdown' && cell.editing;
  return (
    <div
      className={`cell ${cell.type} ${selected ? 'selected' : ''} ${selected && editing ? 'editing' : ''} phase-${phase}`}
      data-testid="cell"
      data-cell-id={cell.id}
      data-phase={phase}
      onMouseDown={select}
    >
      <div className="gutter" title={phase}>
        <span className="prompt">{prompt}</span>
      </div>
      <div className="cell-body">
        {cell.type === 'code' || cell.type === 'raw' || showMarkdownSource ? (
          <Suspense fallback={<pre className="editor editor-loading">{cell.source}</pre>}>
          <CodeEditor
            cellId={cell.id}
            value={cell.source}
            language={cell.type === 'code' ? 'typescript' : cell.type === 'markdown' ? 'markdown' : 'plaintext'}
            focused={selected && editing}
            errorLine={cell.errorLine}
            onChange={(source) => dispatch({ type: 'edit', id: cell.id, source })}
            onFocus={() => {
              const s = useApp.getState();
              if (s.nb?.selected !== index) dispatch({ type: 'select', index });
              dispatch({ type: 'mode', mode: 'edit' });
            }}
          />
          </Suspense>
        ) : (
          <div
            className="markdown rendered"
            data-testid="markdown"
            onDoubleClick={() => {
              dispatch({ type: 'markdown-edit', index, editing: true });
              dispatch({ type: 'mode', mode: 'edit' });
            }}
            dangerouslySetInnerHTML={{ __html: cell.source.trim() ? markdownHtml(cell.source) : '<p class="muted">Empty Markdown cell: double-click or Enter to edit.</p>' }}
          />
        )}
        {cell.aborted && <div className="aborted">not run: {cell.aborted}</div>}
        {cell.run.outputs.some((o) => o.output_type === 'error' && o.ename === 'KernelDied') && (
          <div className="aborted">
            The kernel died while this cell ran. <button onClick={() => void restart()}>Restart kernel</button>
          </div>
        )}
        {cell.type === 'code' && cell.run.outputs.length > 0 && (
          <div className="outputs" data-testid="outputs">
            {cell.run.outputs.map((o, i) => (
              <Output key={i} output={o} />
            ))}
          </div>
        )}
      </div>
    </div>
  );
});
