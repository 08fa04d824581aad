import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.ts';
import { newNotebook, parseNotebook, readNotebook, serializeNotebook, sourceText, splitLines, writeNotebook } from './notebook.ts';

// Written the way Jupyter writes (1-space indent, trailing newline), with things we do not model:
// unknown notebook and cell metadata, an unknown top-level field, source as a list and as a string,
// non-ASCII text and an escaped control character.
const JUPYTER_TEXT = `{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "a1",
   "metadata": {
    "jupyter": {
     "source_hidden": true
    }
   },
   "source": [
    "# Überschrift — naïve\\n",
    "second line"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 7,
   "id": "b2",
   "metadata": {
    "tags": [
     "parameters"
    ],
    "vscode": {
     "languageId": "typescript"
    }
   },
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": "x\\u001b[0m\\n"
    },
    {
     "data": {
      "text/plain": [
       "42"
      ]
     },
     "execution_count": 7,
     "metadata": {},
     "output_type": "execute_result"
    }
   ],
   "source": "const x = 42;\\nx"
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "TypeScript (LREF)",
   "language": "typescript",
   "name": "lref-typescript"
  },
  "custom_tool": {
   "nested": [
    1,
    2.5,
    null
   ]
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5,
 "x_unknown_field": "kept"
}
`;

describe('nbformat round-trip', () => {
  it('writes back byte-identical text, keeping unknown metadata and source as given', () => {
    const nb = parseNotebook(JUPYTER_TEXT, 'a.ipynb');
    expect(serializeNotebook(nb)).toBe(JUPYTER_TEXT);
    expect(nb.cells[0].source).toEqual(['# Überschrift — naïve\n', 'second line']);
    expect(nb.cells[1].source).toBe('const x = 42;\nx');
    expect(sourceText(nb.cells[0].source)).toBe('# Überschrift — naïve\nsecond line');
    expect((nb as Record<string, unknown>).x_unknown_field).toBe('kept');
  });

  it('survives write → read through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-nb-'));
    const path = join(dir, 'x.ipynb');
    writeNotebook(path, parseNotebook(JUPYTER_TEXT, 'a.ipynb'));
    expect(readFileSync(path, 'utf8')).toBe(JUPYTER_TEXT);
    expect(serializeNotebook(readNotebook(path))).toBe(JUPYTER_TEXT);
  });

  it('new notebooks carry the LREF kernelspec and language_info', () => {
    const nb = newNotebook();
    expect(nb.metadata).toEqual({
      kernelspec: { display_name: 'TypeScript (LREF)', language: 'typescript', name: 'lref-typescript' },
      language_info: { file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript' },
    });
    expect(serializeNotebook(nb).startsWith('{\n "cells": [],\n "metadata": {\n  "kernelspec"')).toBe(true);
  });

  it('splits text into Jupyter line lists', () => {
    expect(splitLines('a\nb\n')).toEqual(['a\n', 'b\n']);
    expect(splitLines('a\nb')).toEqual(['a\n', 'b']);
    expect(splitLines('')).toEqual([]);
  });
});

describe('nbformat validation', () => {
  it('names the file and the JSON path of a broken field', () => {
    const broken = JSON.parse(JUPYTER_TEXT);
    broken.cells[1].outputs[1].execution_count = 'seven';
    let err: unknown;
    try {
      parseNotebook(JSON.stringify(broken), 'broken.ipynb');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^broken\.ipynb: not a valid nbformat 4 notebook at cells\[1\]\.outputs\[1\]\.execution_count: /);
  });

  it('rejects an unknown cell type and a wrong nbformat at their paths', () => {
    const a = JSON.parse(JUPYTER_TEXT);
    a.cells[0].cell_type = 'heading';
    expect(() => parseNotebook(JSON.stringify(a), 'h.ipynb')).toThrow(/h\.ipynb: .* at cells\[0\]\.cell_type/);
    const b = JSON.parse(JUPYTER_TEXT);
    b.nbformat = 3;
    expect(() => parseNotebook(JSON.stringify(b), 'v3.ipynb')).toThrow(/v3\.ipynb: .* at nbformat/);
  });

  it('reports invalid JSON with the line it breaks on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lref-nb-'));
    const path = join(dir, 'bad.ipynb');
    writeFileSync(path, '{\n "cells": [\n  {,}\n ]\n}\n');
    expect(() => readNotebook(path)).toThrow(new RegExp(`^${path.replace(/[.]/g, '\\.')}:3: not valid JSON`));
  });
});
