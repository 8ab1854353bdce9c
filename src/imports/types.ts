import type { z } from 'zod';
import type { Db } from '../db/index.ts';
import type { IngestService } from '../events/index.ts';
import type { WorkspaceSettings } from '../workspaces/index.ts';

export const importKindNames = ['contacts', 'products', 'orders', 'order-items', 'events'] as const;
export type ImportKindName = (typeof importKindNames)[number];

/** `rows`: every valid row is imported, rejected rows are reported. `all`: one bad row and nothing is written. */
export type ImportMode = 'rows' | 'all';

/** A rejected row: its line in the file (the header is line 1), the column (or '' for the whole row) and why. */
export type RowError = { line: number; column: string; message: string };

/** A row that passed its schema, with the line it starts on. */
export type Row<T> = { line: number; value: T };

/**
 * What a kind writes with. In `rows` mode `db` is the database and every batch is its own
 * transaction; in `all` mode `db` runs everything inside the one import transaction, and `ingest`
 * is an ingestion service bound to it.
 */
export type ImportContext = { db: Db; ingest: IngestService; workspaceId: string; settings: WorkspaceSettings; now: Date };

/** One documented column of a format (docs/csv-formats.md is written from the same facts). */
export type ColumnDoc = { name: string; type: string; required: boolean; description: string };

/** One CSV format: its columns, its row schema, and how valid rows are written. */
export type ImportKind<T> = {
  name: ImportKindName;
  columns: readonly ColumnDoc[];
  /** Headers the file must have; an inner list means "at least one of these". */
  requiredHeaders: readonly (readonly string[])[];
  /** What a column not in `columns` becomes, or 'refuse' to refuse the file up front. */
  extraColumns: 'traits' | 'properties' | 'refuse';
  /** Validates one row: column name → cell text, blank cells left out. */
  schema: z.ZodType<T>;
  /**
   * Writes valid rows and returns the rows the database stage refuses (an unknown sku, an email the
   * workspace policy rejects …). Expected refusals are found by queries before writing, never by a
   * failing statement, so that they cannot abort the `all` mode's transaction.
   */
  write(ctx: ImportContext, rows: readonly Row<T>[]): Promise<RowError[]>;
};
