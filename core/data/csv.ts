import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { inputError } from '../util/errors.ts';

/**
 * A streaming CSV/TSV reader (RFC 4180): quoted fields, doubled quotes ("" → "), line breaks inside
 * quoted fields, LF / CRLF / CR line ends, any one-character delimiter. Records carry the 1-based
 * physical line on which they start, so every input error can say "file:line".
 *
 * Deliberate leniencies, because real exports have them: a quote inside an *unquoted* field is kept
 * as a literal character, and blank lines between records are skipped. Strictness where it matters:
 * text after a closing quote, an unterminated quote and a wrong column count are errors.
 */

export type CsvEncoding = 'utf-8' | 'windows-1252';

export interface CsvOptions {
  /** field separator; ',' for CSV, '\t' for TSV */
  delimiter?: string;
  /** how the bytes are text: Home Depot is windows-1252, most others UTF-8 */
  encoding?: CsvEncoding;
}

export interface CsvRecord {
  fields: string[];
  /** 1-based physical line where the record starts */
  line: number;
}

const QUOTE = 34; // "
const CR = 13;
const LF = 10;

type State = 'start' | 'unquoted' | 'quoted' | 'quoteSeen';

/** An incremental parser: push() text chunks as they arrive, end() at EOF. Pure, so tests drive it directly. */
export class CsvParser {
  /** header names, when known: errors then name the column instead of its position */
  columns: readonly string[] | undefined;
  /** take `columns` from the first record (set before pushing: errors may come in the header's chunk) */
  headerNames = false;
  private readonly delim: number;
  private state: State = 'start';
  private fields: string[] = [];
  private field = '';
  private line = 1; // physical line of the next character
  private recordLine = 1;
  private quoteLine = 1;
  private prevCR = false; // the previous character (maybe in the previous chunk) was CR
  private skipLF = false; // a record ended on CR at a chunk end: a leading LF belongs to it

  constructor(
    private readonly file: string,
    delimiter = ',',
  ) {
    if (delimiter.length !== 1) throw new Error(`CsvParser: delimiter must be one character, got ${JSON.stringify(delimiter)}`);
    this.delim = delimiter.charCodeAt(0);
  }

  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = text.length;
    let i = 0;
    if (this.skipLF && n > 0) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) i = 1;
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case 'start':
          if (c === QUOTE) {
            this.state = 'quoted';
            this.quoteLine = this.line;
            i++;
          } else if ((c === CR || c === LF) && this.fields.length === 0) {
            i = this.lineEnd(text, i); // a blank line between records
            this.recordLine = this.line;
          } else {
            this.state = 'unquoted';
          }
          break;
        case 'unquoted': {
          let j = i;
          let d = 0;
          while (j < n) {
            d = text.charCodeAt(j);
            if (d === this.delim || d === CR || d === LF) break;
            j++;
          }
          this.field += text.slice(i, j);
          if (j === n) return out;
          if (d === this.delim) {
            this.endField();
            this.state = 'start';
            i = j + 1;
          } else {
            this.endRecord(out);
            i = this.lineEnd(text, j);
          }
          break;
        }
        case 'quoted': {
          const j = text.indexOf('"', i);
          const end = j < 0 ? n : j;
          this.countBreaks(text, i, end);
          this.field += text.slice(i, end);
          if (j < 0) return out;
          this.state = 'quoteSeen';
          i = j + 1;
          break;
        }
        case 'quoteSeen':
          if (c === QUOTE) {
            this.field += '"'; // a doubled quote inside a quoted field
            this.state = 'quoted';
            this.prevCR = false;
            i++;
          } else if (c === this.delim) {
            this.endField();
            this.state = 'start';
            i++;
          } else if (c === CR || c === LF) {
            this.endRecord(out);
            i = this.lineEnd(text, i);
          } else {
            throw this.afterQuoteError(text[i]);
          }
          break;
      }
    }
    return out;
  }

  /** Call at end of input: flushes a last record without a line end, or reports an open quote. */
  end(): CsvRecord[] {
    if (this.state === 'quoted') {
      throw inputError(
        this.file,
        this.quoteLine,
        `column ${this.columnName(this.fields.length)}: unterminated quoted field (the quote opened on this line is never closed)`,
      );
    }
    const out: CsvRecord[] = [];
    if (this.fields.length > 0 || this.state !== 'start') this.endRecord(out);
    return out;
  }

  /**
   * Text after a closing quote. When the quoted field spans lines, the usual cause is a quote left
   * open further up that swallowed the line ends until the next quote: point at where it opened.
   */
  private afterQuoteError(ch: string): Error {
    const column = `column ${this.columnName(this.fields.length)}`;
    const doubled = '(a quote inside a quoted field must be doubled: "")';
    if (this.quoteLine !== this.line) {
      return inputError(
        this.file,
        this.quoteLine,
        `${column}: unterminated quoted field? the quote opened on this line runs to line ${this.line}, where a quote is followed by ${JSON.stringify(ch)} ${doubled}`,
      );
    }
    return inputError(this.file, this.line, `${column}: unexpected ${JSON.stringify(ch)} after a closing quote ${doubled}`);
  }

  private columnName(i: number): string {
    const name = this.columns?.[i];
    return name === undefined ? `#${i + 1}` : `"${name}"`;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
  }

  private endRecord(out: CsvRecord[]): void {
    this.endField();
    if (this.headerNames && this.columns === undefined) this.columns = this.fields.map((f) => f.trim());
    out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    this.state = 'start';
  }

  /** Consumes the line end at text[i] (CR, LF or CRLF); returns the index after it. */
  private lineEnd(text: string, i: number): number {
    this.line++;
    this.recordLine = this.line;
    this.prevCR = false;
    if (text.charCodeAt(i) !== CR) return i + 1;
    if (i + 1 === text.length) {
      this.skipLF = true;
      return i + 1;
    }
    return text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
  }

  /** Counts physical lines inside quoted text so later records still report the right line. */
  private countBreaks(text: string, from: number, to: number): void {
    let prevCR = this.prevCR;
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === CR) this.line++;
      else if (c === LF && !prevCR) this.line++;
      prevCR = c === CR;
    }
    if (to > from) this.prevCR = prevCR;
  }
}

/**
 * Node 20's TextDecoder('windows-1252') decodes as ISO-8859-1: bytes 0x80–0x9F come out as C1
 * control characters instead of € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ. Because
 * ISO-8859-1 maps each byte to the same code point, remapping that range afterwards is exact.
 * (0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in windows-1252 and stay as they are, as WHATWG says.)
 */
const CP1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const C1_RANGE = /[\u0080-\u009f]/g;

export function fixWindows1252(text: string): string {
  return text.replace(C1_RANGE, (ch) => CP1252_C1[ch.charCodeAt(0) - 0x80]);
}

/** Turns a byte stream into text chunks in the given encoding (a UTF-8 BOM is dropped). */
export async function* decodeChunks(file: string, encoding: CsvEncoding = 'utf-8'): AsyncGenerator<string> {
  assertReadable(file);
  const decoder = new TextDecoder(encoding);
  const fix = encoding === 'windows-1252' ? fixWindows1252 : (t: string) => t;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    yield fix(decoder.decode(chunk as Buffer, { stream: true }));
  }
  yield fix(decoder.decode());
}

/** Every record of a delimited file, header included, streamed. */
export async function* readCsvRecords(file: string, opts: CsvOptions = {}, parser = new CsvParser(file, opts.delimiter)): AsyncGenerator<CsvRecord> {
  for await (const text of decodeChunks(file, opts.encoding)) yield* parser.push(text);
  yield* parser.end();
}

export interface CsvRow {
  /** column name → value */
  row: Record<string, string>;
  line: number;
}

/**
 * Records of a file with a header line, as objects keyed by column name. The header must hold every
 * `required` column; every record must have exactly as many fields as the header (the error names
 * the missing or surplus columns).
 */
export async function* readCsvRows(file: string, opts: CsvOptions & { required?: readonly string[] } = {}): AsyncGenerator<CsvRow> {
  const parser = new CsvParser(file, opts.delimiter);
  parser.headerNames = true;
  let columns: string[] | undefined;
  for await (const rec of readCsvRecords(file, opts, parser)) {
    if (!columns) {
      columns = rec.fields.map((f) => f.trim());
      const missing = (opts.required ?? []).filter((c) => !columns!.includes(c));
      if (missing.length) {
        throw inputError(file, rec.line, `missing column(s) ${missing.join(', ')} in the header; found: ${columns.join(', ')}`);
      }
      continue;
    }
    if (rec.fields.length !== columns.length) throw inputError(file, rec.line, columnCountProblem(columns, rec.fields.length));
    const row: Record<string, string> = {};
    for (let k = 0; k < columns.length; k++) row[columns[k]] = rec.fields[k];
    yield { row, line: rec.line };
  }
  if (!columns) throw inputError(file, undefined, 'the file is empty (expected a header line)');
}

function columnCountProblem(columns: readonly string[], found: number): string {
  const expected = `expected ${columns.length} columns, found ${found}`;
  if (found < columns.length) return `${expected}: missing value(s) for ${columns.slice(found).join(', ')}`;
  return `${expected}: ${found - columns.length} extra field(s) after the last column "${columns[columns.length - 1]}"`;
}

/**
 * The header of a delimited file without reading the rest: for format detection. The delimiter is
 * guessed from the first line (a tab and no comma → TSV).
 */
export function sniffHeader(file: string, encoding: CsvEncoding = 'utf-8'): { delimiter: string; columns: string[] } {
  assertReadable(file);
  const fd = openSync(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    text = new TextDecoder(encoding).decode(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const first = text.split(/\r?\n|\r/, 1)[0] ?? '';
  const delimiter = first.includes('\t') && !first.includes(',') ? '\t' : ',';
  const parser = new CsvParser(file, delimiter);
  const recs = parser.push(first + '\n');
  return { delimiter, columns: (recs[0]?.fields ?? []).map((f) => f.trim()) };
}

/** A clear error for a missing path, before a stream fails with a bare ENOENT. */
export function assertReadable(file: string): void {
  try {
    if (statSync(file).isDirectory()) throw inputError(file, undefined, 'is a directory, expected a file');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw inputError(file, undefined, 'no such file');
    throw e;
  }
}
