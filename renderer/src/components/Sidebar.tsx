import { useState } from 'react';
import type { TreeEntryT } from '../../../core/app/contract.ts';
import { useApp } from '../state/store.ts';
import { openRun } from '../decisions/usecases.ts';
import { builtinTemplate, newTemplate, openTemplate } from '../prompts/usecases.ts';
import { createNotebook, deleteNotebook, openNotebook, refreshTree, renameNotebook } from '../usecases.ts';

/** The workspace: notebooks and run folders; create, rename and delete notebooks. */
export function Sidebar() {
  const tree = useApp((s) => s.tree);
  const info = useApp((s) => s.info);
  const [naming, setNaming] = useState<{ mode: 'new' } | { mode: 'prompt' } | { mode: 'rename'; from: string } | undefined>();
  const [name, setName] = useState('');
  const submit = () => {
    const n = name.trim();
    if (n && naming?.mode === 'new') void createNotebook(n);
    if (n && naming?.mode === 'rename') void renameNotebook(naming.from, n);
    if (n && naming?.mode === 'prompt') void builtinTemplate('label').then((t) => newTemplate(n, t));
    setNaming(undefined);
    setName('');
  };
  return (
    <nav className="sidebar" aria-label="Workspace">
      <div className="sidebar-head">
        <span className="workspace-name" title={info?.workspace}>
          {info?.workspace.split('/').pop() ?? 'workspace'}
        </span>
        <button title="New notebook" onClick={() => setNaming({ mode: 'new' })}>
          + New
        </button>
        <button title="A new prompt template (from the built-in label template)" onClick={() => setNaming({ mode: 'prompt' })}>
          + Prompt
        </button>
        <button title="Every run with its figures; compare two" onClick={() => (useApp.setState({ page: 'runs' }), history.replaceState(null, '', '#view=runs'), void refreshTree())}>
          Runs
        </button>
        <button title="Refresh" onClick={() => void refreshTree()}>
          ↻
        </button>
      </div>
      {naming && (
        <form
          className="name-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <input autoFocus aria-label="Notebook name" placeholder={naming.mode === 'new' ? 'notebooks/new.ipynb' : naming.mode === 'prompt' ? 'template id, e.g. label-title-only' : 'new name.ipynb'} value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && setNaming(undefined)} />
        </form>
      )}
      <ul className="tree" data-testid="tree">
        {tree.map((e) => (
          <Entry key={e.path} entry={e} onRename={(from) => (setNaming({ mode: 'rename', from }), setName(from))} />
        ))}
      </ul>
    </nav>
  );
}

function Entry({ entry, onRename }: { entry: TreeEntryT; onRename(path: string): void }) {
  const current = useApp((s) => s.nb?.path);
  const dirty = useApp((s) => s.nb?.dirty);
  const [open, setOpen] = useState(true);
  if (entry.kind === 'dir') {
    return (
      <li className="dir">
        <button className="entry" onClick={() => setOpen(!open)}>
          {open ? '▾' : '▸'} {entry.name}/
        </button>
        {open && (
          <ul>
            {entry.children?.map((c) => (
              <Entry key={c.path} entry={c} onRename={onRename} />
            ))}
          </ul>
        )}
      </li>
    );
  }
  if (entry.kind === 'template') {
    return (
      <li className="template-entry">
        <button className="entry" onClick={() => void openTemplate(entry.path)} data-path={entry.path} title="a prompt template: edit and compare">
          ✎ {entry.name}
        </button>
      </li>
    );
  }
  if (entry.kind === 'run') {
    return (
      <li className="run">
        <button className="entry" title={`open the decisions of ${entry.path}`} onClick={() => void openRun(entry.path)} data-path={entry.path}>
          ◧ {entry.name}
        </button>
      </li>
    );
  }
  const active = current === entry.path;
  return (
    <li className={`notebook-entry ${active ? 'active' : ''}`}>
      <button className="entry" onClick={() => void openNotebook(entry.path)} data-path={entry.path}>
        ▤ {entry.name}
        {active && dirty ? ' ●' : ''}
      </button>
      <span className="entry-actions">
        <button title="Rename" onClick={() => onRename(entry.path)}>
          ✎
        </button>
        <button
          title="Delete"
          onClick={() => {
            if (confirm(`Delete ${entry.path}? This cannot be undone.`)) void deleteNotebook(entry.path);
          }}
        >
          ✕
        </button>
      </span>
    </li>
  );
}
