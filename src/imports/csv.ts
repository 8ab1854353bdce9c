// A streaming CSV reader (RFC 4180, lenient where real files are) that knows the line every record
// starts on. We do not use csv-parse here: version 7 counts a CRLF inside a quoted field as two
// lines, picks the record delimiter from the first line (so a file mixing \n and \r\n fails), and
// after one malformed quote it skips the good records that follow, where an importer that promises
// "every rejected row reported, the rest imported" must resynchronise at the next line.

/** A parsed record, or a record that could not be read, with the (1-based) line it starts on. */
export type CsvRecord = { line: number; fields: string[]; error?: undefined } | { line: number; fields?: undefined; error: string };

/** A record longer than this is refused; it bounds memory when a quote is never closed. */
export const MAX_RECORD_CHARS = 1_000_000;

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

const S = { fieldStart: 0, unquoted: 1, quoted: 2, quoteSeen: 3, skipLine: 4, skipQuoted: 5 } as const;
type State = (typeof S)[keyof typeof S];

/**
 * An incremental parser: `push` text as it arrives, `end` at the end of input. Line breaks are
 * \n, \r\n or a lone \r, inside quoted fields too. Blank lines are skipped. A malformed record is
 * returned as an error and reading resumes at the next line.
 */
export function createCsvParser(maxRecordChars = MAX_RECORD_CHARS) {
  let state: State = S.fieldStart;
  let line = 1; // the physical line being read
  let recordLine = 1; // the line the current record started on
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let quotedAny = false;
  let afterCr = false; // the previous character was \r: a following \n belongs to the same line break
  let afterCrInQuotes = false; // the same, inside a quoted field that spans chunks
  let error = '';
  let out: CsvRecord[] = [];

  const endField = () => {
    fields.push(field);
    field = '';
  };
  const reset = () => {
    fields = [];
    field = '';
    size = 0;
    quotedAny = false;
    state = S.fieldStart;
  };
  const endRecord = () => {
    const blank = !quotedAny && fields.length === 1 && fields[0]!.trim() === '';
    if (!blank) out.push({ line: recordLine, fields });
    reset();
  };
  const fail = (message: string, next: State) => {
    error = message;
    fields = [];
    field = '';
    state = next;
  };
  const emitError = () => {
    out.push({ line: recordLine, error });
    reset();
  };

  function push(text: string): CsvRecord[] {
    out = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (afterCr) {
        afterCr = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      if (state === S.fieldStart || state === S.unquoted) {
        if (state === S.fieldStart) {
          if (fields.length === 0 && field === '') recordLine = line;
          if (c === QUOTE) {
            state = S.quoted;
            quotedAny = true;
            i++;
            continue;
          }
          state = S.unquoted;
        }
        // Fast path: copy everything up to the next comma or line break in one slice. A quote
        // inside an unquoted field is kept as a character (5" screen), as most readers do.
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === COMMA || d === LF || d === CR) break;
          j++;
        }
        field += text.slice(i, j);
        size += j - i;
        i = j;
        if (size > maxRecordChars) {
          fail(`the row is longer than ${maxRecordChars.toLocaleString('en')} characters`, S.skipLine);
          continue;
        }
        if (i === n) break;
        const d = text.charCodeAt(i++);
        endField();
        if (d === COMMA) state = S.fieldStart;
        else {
          line++;
          afterCr = d === CR;
          endRecord();
        }
      } else if (state === S.quoted || state === S.skipQuoted) {
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          // Line breaks inside quotes still count, so later records keep their true line numbers.
          if (d === CR) line++;
          else if (d === LF && !(j > i ? text.charCodeAt(j - 1) === CR : afterCrInQuotes)) line++;
          j++;
        }
        afterCrInQuotes = j > i ? text.charCodeAt(j - 1) === CR : afterCrInQuotes;
        if (state === S.quoted) {
          field += text.slice(i, j);
          size += j - i;
          if (size > maxRecordChars) fail(`the row is longer than ${maxRecordChars.toLocaleString('en')} characters (is a quote left open?)`, S.skipQuoted);
        }
        i = j;
        if (i === n) break;
        i++; // the quote
        afterCrInQuotes = false;
        if (state === S.quoted) state = S.quoteSeen;
        else state = S.skipLine; // the over-long field closed: drop the rest of its line
      } else if (state === S.quoteSeen) {
        if (c === QUOTE) {
          field += '"';
          size++;
          state = S.quoted;
          i++;
        } else if (c === COMMA) {
          endField();
          state = S.fieldStart;
          i++;
        } else if (c === CR || c === LF) {
          endField();
          line++;
          afterCr = c === CR;
          i++;
          endRecord();
        } else {
          fail(`a quoted field must be followed by a comma or the end of the line (found ${JSON.stringify(text[i])})`, S.skipLine);
        }
      } else {
        // skipLine: discard the rest of a malformed record's line, then report it.
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === LF || d === CR) break;
          j++;
        }
        i = j;
        if (i === n) break;
        const d = text.charCodeAt(i++);
        line++;
        afterCr = d === CR;
        emitError();
      }
    }
    return out;
  }

  function end(): CsvRecord[] {
    out = [];
    if (state === S.quoted || state === S.skipQuoted) {
      error = `a quoted field opened on line ${recordLine} is never closed${line > recordLine + 1 ? `; the rest of the file, from line ${recordLine}, could not be read` : ''}`;
      emitError();
    } else if (state === S.skipLine) emitError();
    else if (state === S.quoteSeen || state === S.unquoted || fields.length > 0) {
      endField();
      endRecord();
    }
    return out;
  }

  return { push, end };
}

/**
 * Reads CSV from a byte stream, yielding the records of each chunk. UTF-8 is decoded across chunk
 * boundaries and a byte-order mark at the start is dropped.
 */
export async function* readCsv(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxRecordChars = MAX_RECORD_CHARS): AsyncGenerator<CsvRecord[]> {
  const parser = createCsvParser(maxRecordChars);
  const decoder = new TextDecoder('utf-8'); // ignoreBOM = false: a leading BOM in bytes is removed
  let first = true; // a BOM in text that was already decoded is removed here
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.charCodeAt(0) === 0xfeff) {
      first = false;
      const records = parser.push(text.slice(1));
      if (records.length > 0) yield records;
      continue;
    }
    first = false;
    const records = parser.push(text);
    if (records.length > 0) yield records;
  }
  const rest = parser.push(decoder.decode());
  const last = [...rest, ...parser.end()];
  if (last.length > 0) yield last;
}

/** One CSV field: quoted when it holds a comma, quote, line break or edge whitespace. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line with its \n. */
export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return values.map(csvField).join(',') + '\n';
}
