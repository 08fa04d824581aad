import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef, useState } from 'react';
import { loadLrefTypes, monaco } from './monaco.ts';

interface Props {
  cellId: string;
  value: string;
  language: 'typescript' | 'markdown' | 'plaintext';
  focused: boolean;
  errorLine?: number;
  onChange(value: string): void;
  onFocus(): void;
}

const LINE = 19;

/** A cell's Monaco editor, as tall as its content (the page scrolls, not the cell). */
export function CodeEditor({ cellId, value, language, focused, errorLine, onChange, onFocus }: Props) {
  const ref = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const decorations = useRef<monaco.editor.IEditorDecorationsCollection | null>(null);
  const [height, setHeight] = useState(Math.max(1, value.split('\n').length) * LINE + 10);
  // Monaco mounts asynchronously: the cell may have been put in edit mode before it exists.
  const focusedNow = useRef(focused);
  focusedNow.current = focused;

  const onMount: OnMount = (editor) => {
    ref.current = editor;
    decorations.current = editor.createDecorationsCollection();
    editor.onDidContentSizeChange((e) => setHeight(e.contentHeight + 2));
    editor.onDidFocusEditorText(onFocus);
    if (focusedNow.current) editor.focus();
    if (language === 'typescript') void loadLrefTypes();
  };

  useEffect(() => {
    if (focused && ref.current && !ref.current.hasTextFocus()) ref.current.focus();
  }, [focused]);

  useEffect(() => {
    const d = decorations.current;
    if (!d) return;
    d.set(errorLine ? [{ range: new monaco.Range(errorLine, 1, errorLine, 1), options: { isWholeLine: true, className: 'error-line', glyphMarginClassName: 'error-glyph', hoverMessage: { value: 'the error was raised here' } } }] : []);
  }, [errorLine, height]);

  return (
    <div className="editor" style={{ height }} data-testid="editor">
      <Editor
        path={`file:///cells/${cellId}.${language === 'typescript' ? 'ts' : language === 'markdown' ? 'md' : 'txt'}`}
        defaultLanguage={language}
        language={language}
        value={value}
        onChange={(v) => onChange(v ?? '')}
        onMount={onMount}
        theme="vs"
        loading={<pre className="editor-loading">{value}</pre>}
        options={{
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          scrollbar: { vertical: 'hidden', alwaysConsumeMouseWheel: false, horizontal: 'auto' },
          overviewRulerLanes: 0,
          lineNumbers: 'on',
          lineNumbersMinChars: 3,
          glyphMargin: false,
          folding: false,
          fontSize: 13,
          lineHeight: LINE,
          wordWrap: language === 'markdown' ? 'on' : 'off',
          automaticLayout: true,
          renderLineHighlight: focused ? 'line' : 'none',
          fixedOverflowWidgets: true,
          tabSize: 2,
          showDeprecated: false,
        }}
      />
    </div>
  );
}
