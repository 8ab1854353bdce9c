import type { TestDatabase } from '../helpers/db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { runImport, type ImportKindName, type ImportMode, type ImportJob } from '../../src/imports/index.ts';
import type { WorkspaceSettings } from '../../src/workspaces/index.ts';

export type ImportFixture = {
  tend: Tend;
  /** A fresh workspace. */
  workspace(settings?: Partial<WorkspaceSettings>): Promise<string>;
  /** Imports CSV text (split into small chunks, so rows straddle chunk boundaries). */
  importCsv(workspaceId: string, kind: ImportKindName, csv: string, options?: { mode?: ImportMode; batchSize?: number }): Promise<ImportJob>;
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
};

export async function openFixture(target: TestDatabase): Promise<ImportFixture> {
  const db = await target.open();
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db });
  return {
    tend,
    async workspace(settings) {
      return (await tend.workspaces.createWithKeys('imports', settings)).workspace.id;
    },
    importCsv(workspaceId, kind, csv, options = {}) {
      return runImport(tend, { workspaceId, kind, input: chunks(csv, 7), mode: options.mode, batchSize: options.batchSize });
    },
    async rows(sql, params = []) {
      return (await tend.db.query(sql, params)).rows as never;
    },
    close: () => tend.close(),
  };
}

/** The text's UTF-8 bytes in chunks of `size` (a multi-byte character may be split, as on a network). */
export function* chunks(text: string, size: number): Generator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** [line, column] of each rejected row, for compact assertions. */
export const where = (job: ImportJob) => job.errors.map((e) => [e.line, e.column]);
