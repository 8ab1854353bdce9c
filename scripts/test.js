#!/usr/bin/env node
// Runs the whole test suite with Node's built-in runner. Tests are TypeScript files that Node 24
// runs directly (type stripping). With TEST_DATABASE_URL set, every storage test runs on both the
// embedded database and that Postgres server (see test/helpers/db.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('test').filter((f) => filters.length === 0 || filters.some((p) => f.includes(p))).sort();
const args = ['--test', '--test-concurrency=2', '--test-timeout=600000'];
if (process.env.CI) args.push('--test-reporter=spec');
const result = spawnSync(process.execPath, [...args, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
