import { extname } from 'node:path';
import { readCsvRows, sniffHeader } from '../csv.ts';
import { inputError } from '../../util/errors.ts';
import { readJsonLines } from './jsonl.ts';

/**
 * Rows of a tabular file that may come as CSV, TSV or JSONL (ESCI is published as parquet and people
 * convert it to either). JSONL values are turned into strings so one code path reads both.
 */
export async function* readTableRows(file: string, required: readonly string[] = []): AsyncGenerator<{ row: Record<string, string>; line: number }> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') {
    for await (const { value, line } of readJsonLines(file)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw inputError(file, line, 'expected a JSON object per line');
      const row: Record<string, string> = {};
      for (const [k, v] of Object.entries(value)) row[k] = v === null || v === undefined ? '' : String(v);
      yield { row, line };
    }
    return;
  }
  const delimiter = ext === '.tsv' ? '\t' : sniffHeader(file).delimiter;
  yield* readCsvRows(file, { delimiter, required });
}
