import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef, useState } from 'react';
import { Output } from '../outputs/Output.tsx';
import { usePrompt } from './store.ts';
import { builtinTemplate, compareTemplates, editTemplate, saveTemplate } from './usecases.ts';
import '../components/monaco.ts';

type Monaco = Parameters<OnMount>[1];
type CodeEditor = Parameters<OnMount>[0];

/**
 * A prompt template in Monaco, checked as you type (schema, syntax, unknown placeholders marked in
 * the text), and compared against the built-in template on the same pairs, model and seed: the
 * comparison trains in a kernel process, shows its progress here, and opens as columns of the
 * decision matrix with the per-template figures.
 */
export function PromptPage() {
  const { path, text, dirty, check, run } = usePrompt();
  const editor = useRef<{ editor: CodeEditor; monaco: Monaco } | null>(null);
  const [params, setParams] = useState({ pairs: 1200, steps: 200, seed: 1 });

  useEffect(() => {
    const e = editor.current;
    const model = e?.editor.getModel();
    if (!e || !model) return;
    const markers = (check?.unknownPlaceholders ?? []).flatMap((name) =>
      model.findMatches(`{${name}}`, false, false, true, null, false).map((m) => ({
        ...m.range,
        severity: e.monaco.MarkerSeverity.Error,
        message: `unknown placeholder {${name}}; known: {query} {title} {brand} {category} {attributes} {description} {labels} {rules} {wrong_label}`,
      })),
    );
    e.monaco.editor.setModelMarkers(model, 'lref-template', markers);
  }, [check, text]);

  if (!path) return null;
  const running = run && (run.cell.phase === 'queued' || run.cell.phase === 'running');
  return (
    <div className="prompt-page" data-testid="prompt-page">
      <div className="decisions-head">
        <b>{path}</b>
        <span className="muted">{dirty ? '● unsaved' : 'saved'}</span>
        <span className={`template-check ${check?.ok ? 'ok' : 'bad'}`} data-testid="template-check">
          {check ? (check.ok && !check.unknownPlaceholders.length ? '✓ valid template' : check.error ?? `unknown placeholder(s): ${check.unknownPlaceholders.join(', ')}`) : ''}
        </span>
        <span className="spacer" />
        <button onClick={() => void saveTemplate()} disabled={!dirty}>
          Save
        </button>
      </div>
      <div className="prompt-body">
        <div className="prompt-editor">
          <Editor
            path={`file:///templates/${path}`}
            defaultLanguage="json"
            value={text}
            onChange={(v) => editTemplate(v ?? '')}
            onMount={(ed, monaco) => {
              editor.current = { editor: ed, monaco };
              ed.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void saveTemplate());
            }}
            options={{ minimap: { enabled: false }, fontSize: 13, wordWrap: 'on', scrollBeyondLastLine: false, automaticLayout: true }}
          />
        </div>
        <aside className="prompt-side">
          <h3>Compare with the built-in template</h3>
          <p className="muted">
            One tiny model per template on the same generated pairs, tokenizer, model size, initial weights and seed: only the template differs. It trains in a kernel process; the result opens
            as columns of the decision matrix.
          </p>
          <div className="params">
            {(['pairs', 'steps', 'seed'] as const).map((k) => (
              <label key={k}>
                {k}
                <input type="number" aria-label={k} value={params[k]} onChange={(e) => setParams({ ...params, [k]: Number(e.target.value) })} />
              </label>
            ))}
          </div>
          <button disabled={!check?.ok || Boolean(running)} onClick={() => void builtinTemplate('label').then((other) => compareTemplates(other, params))} data-testid="compare">
            {running ? 'Comparing…' : '▶ Compare'}
          </button>
          {run && (
            <div className="outputs" data-testid="compare-outputs" data-phase={run.cell.phase}>
              {run.cell.outputs.map((o, i) => (
                <Output key={i} output={o} />
              ))}
            </div>
          )}
        </aside>
      </div>
    </div>
  );
}
