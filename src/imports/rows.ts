import type { CsvRecord } from './csv.ts';
import { rowIssue, show } from './fields.ts';
import type { ImportKind, Row, RowError } from './types.ts';

/** Why a whole file is refused before any row is read. */
export type Refusal = { column: string; message: string };

/**
 * Reads the header line: known column names match case-insensitively; every required column (or
 * one of its alternatives) must be there; a column the format does not know is refused unless the
 * format keeps such columns as traits or properties.
 */
export function readHeader(kind: ImportKind<unknown>, record: CsvRecord | undefined): { ok: true; columns: string[] } | { ok: false; refusal: Refusal } {
  const refuse = (message: string, column = '') => ({ ok: false as const, refusal: { column, message } });
  const expected = `${/^[aeiou]/.test(kind.name) ? 'An' : 'A'} ${kind.name} file starts with a header line naming its columns: ${describeColumns(kind)}.`;
  if (!record) return refuse(`the file is empty. ${expected}`);
  if (record.error !== undefined) return refuse(`the header line could not be read: ${record.error}`);
  const known = new Map(kind.columns.map((c) => [c.name, c.name]));
  const columns: string[] = [];
  for (const [i, raw] of record.fields.entries()) {
    const name = raw.trim();
    const canonical = known.get(name.toLowerCase());
    if (name === '') return refuse(`column ${i + 1} of the header has no name`);
    if (/[\p{Cc}]/u.test(name) || name.length > 100) return refuse(`column ${i + 1} of the header (${show(name)}) is not a usable name: at most 100 characters, no control characters`);
    if (!canonical && kind.extraColumns === 'refuse') return refuse(`unknown column ${show(name)}. ${expected}`, name);
    const column = canonical ?? name;
    if (columns.includes(column)) return refuse(`the column ${show(column)} appears twice in the header`, column);
    columns.push(column);
  }
  for (const alternatives of kind.requiredHeaders) {
    if (!alternatives.some((a) => columns.includes(a))) {
      return refuse(`the header has no ${alternatives.join(' or ')} column, which is required. ${expected}`, alternatives[0]!);
    }
  }
  return { ok: true, columns };
}

function describeColumns(kind: ImportKind<unknown>): string {
  const required = kind.requiredHeaders.map((alts) => alts.join(' or '));
  const optional = kind.columns.map((c) => c.name).filter((n) => !kind.requiredHeaders.some((alts) => alts.includes(n)));
  const extra = kind.extraColumns === 'refuse' ? '' : `; any other column is kept as a ${kind.extraColumns === 'traits' ? 'trait' : 'property'}`;
  return `required ${required.join(', ')}${optional.length > 0 ? `; optional ${optional.join(', ')}` : ''}${extra}`;
}

/** Turns one CSV record into a valid row of `kind`, or the reason it is rejected. */
export function toRow<T>(kind: ImportKind<T>, columns: readonly string[], record: CsvRecord): Row<T> | RowError {
  const { line } = record;
  if (record.error !== undefined) return { line, column: '', message: record.error };
  const { fields } = record;
  // Fewer cells than columns is common (spreadsheets drop trailing empty cells): the missing ones
  // are blank. More cells than columns means the row cannot be read safely.
  if (fields.length > columns.length) {
    return { line, column: '', message: `the row has ${fields.length} cells but the header has ${columns.length} columns (a cell that contains a comma must be quoted)` };
  }
  const cells: Record<string, string> = {};
  for (let i = 0; i < fields.length; i++) {
    const value = fields[i]!;
    // PostgreSQL cannot store NUL in text; say where it is rather than fail the batch.
    if (value.includes('\u0000')) return { line, column: columns[i]!, message: 'contains a NUL character (\\0), which cannot be stored' };
    if (value.trim() !== '') cells[columns[i]!] = value;
  }
  const parsed = kind.schema.safeParse(cells);
  if (!parsed.success) return { line, ...rowIssue(parsed.error.issues[0]!) };
  return { line, value: parsed.data };
}
