import { loader } from '@monaco-editor/react';
import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import { editorTypes } from '../usecases.ts';

/**
 * Monaco from the bundle (never a CDN), its workers same-origin, and the TypeScript service told
 * about the `lref` API so cells get completion and hover. Cells share one kernel context, so a
 * name defined in an earlier cell is not an error here: only syntax is checked, as in JupyterLab.
 */
self.MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === 'typescript' || label === 'javascript' ? new TsWorker() : label === 'json' ? new JsonWorker() : new EditorWorker()),
};
loader.config({ monaco });

const ts = monaco.typescript;
ts.typescriptDefaults.setCompilerOptions({
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.NodeJs,
  allowNonTsExtensions: true,
  strict: false,
  baseUrl: 'file:///',
  paths: { lref: ['lref/core/kernel/prelude.d.ts'] },
  lib: ['es2023', 'dom'],
});
ts.typescriptDefaults.setDiagnosticsOptions({
  noSemanticValidation: true,
  noSyntaxValidation: false,
  noSuggestionDiagnostics: true,
  // top-level await and return are fine in a cell
  diagnosticCodesToIgnore: [1375, 1378, 1108, 2304],
});

let typesLoaded: Promise<void> | undefined;
export function loadLrefTypes(): Promise<void> {
  typesLoaded ??= editorTypes()
    .then((files) => {
      for (const f of files) ts.typescriptDefaults.addExtraLib(f.content, f.path);
    })
    .catch((e) => console.warn('lref: no editor types', e));
  return typesLoaded;
}

export { monaco };
