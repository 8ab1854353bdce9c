import { readdirSync, readFileSync } from 'node:fs';
import type { Db } from './types.ts';

const migrationsDir = new URL('../../migrations/', import.meta.url);

/**
 * Applies every migration in `migrations/` that the database has not seen, in name order, in one
 * transaction. A transaction-scoped advisory lock makes concurrent starts (several API and worker
 * processes, parallel test files) wait for each other instead of racing on the same DDL.
 */
export async function migrate(db: Db): Promise<string[]> {
  const files = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(7347001)`);
    await tx.query(`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
    const done = new Set((await tx.query<{ name: string }>(`select name from schema_migrations`)).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = readFileSync(new URL(file, migrationsDir), 'utf8');
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query(`insert into schema_migrations (name) values ($1)`, [file]);
      applied.push(file);
    }
    return applied;
  });
}

/** Splits a migration on semicolons at line ends, keeping `$$ … $$` function bodies whole. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    if (/^\s*--/.test(line) && !inDollar) continue;
    current += line + '\n';
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    if (!inDollar && /;\s*$/.test(line)) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
