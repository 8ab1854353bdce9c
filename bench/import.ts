// CSV import throughput and memory: a generated orders file (1,000,000 rows by default) imported
// through the same code path as `tend import orders` (importFile) into the Postgres server, in a
// fresh schema, and into the embedded database, in a temporary folder. Each target runs in a child
// process of its own, so the peak RSS reported is that import's alone.
//   npx node bench/import.ts [--rows N] [--skip-server] [--skip-embedded] [--semi-space MB]
// --semi-space runs the imports with node --max-semi-space-size=MB; the default, 16, is what
// `tend` itself runs with (bin/tend.js). V8 otherwise sizes its young generation from the
// machine's memory (128 MB on a 23 GB machine), and that alone decides whether a streaming import
// stays under 300 MB: its own live data is a few tens of MB. `--semi-space 0` uses V8's default.
//   npm run bench -- import [--rows N] …
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/index.ts';
import { createTend } from '../src/tend.ts';
import { importFile } from '../src/imports/index.ts';
import { createProgress } from '../src/cli/progress.ts';

export type ImportBenchOptions = { rows?: number; server?: boolean; embedded?: boolean; semiSpaceMb?: number };
export type ImportBenchResult = {
  target: 'server' | 'embedded'; rows: number; accepted: number; seconds: number; rowsPerSecond: number;
  /** RSS with the database open, before the import. */
  baselineRssMb: number;
  /** process.resourceUsage().maxRSS, and the highest of process.memoryUsage().rss sampled every 100 ms. */
  peakRssMb: number; sampledPeakRssMb: number;
};

const LIMIT_MB = 300;

/** Writes an orders file of `rows` rows: 200,000 customers (or fewer) ordering over three years. */
export async function writeOrdersCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const customers = Math.max(1, Math.min(200_000, Math.floor(rows / 5)));
  const start = Date.parse('2023-01-01T00:00:00Z');
  let s = 12345;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  let chunk = 'order_id,user_id,ordered_at,total,currency,status\n';
  for (let i = 1; i <= rows; i++) {
    const at = new Date(start + Math.floor(rnd() * 3 * 365 * 86_400) * 1000);
    // Half the dates as date-times, a quarter as ISO dates, a quarter as YYYYMMDD (CDNOW's form).
    const r = rnd();
    const when = r < 0.5 ? at.toISOString().slice(0, 19) + 'Z' : r < 0.75 ? at.toISOString().slice(0, 10) : at.toISOString().slice(0, 10).replaceAll('-', '');
    chunk += `ORD-${i},cust-${Math.floor(rnd() * customers)},${when},${(5 + rnd() * 195).toFixed(2)},EUR,${rnd() < 0.03 ? 'refunded' : ''}\n`;
    if (chunk.length > 256 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/**
 * Runs in a child process: imports the file into one target and prints the result as JSON. The
 * embedded database's folder is created beforehand by another process (`--child init`), as `tend
 * serve` or an earlier command would have: creating it (initdb) alone peaks at about 1 GB.
 */
async function child(target: 'server' | 'embedded' | 'init', file: string, dir: string | null): Promise<void> {
  const url = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_import_${randomBytes(4).toString('hex')}`;
  const db = target === 'server' ? await openDatabase({ url, dataDir: null, schema, poolSize: 4 }) : await openDatabase({ url: null, dataDir: dir });
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db });
  if (target === 'init') {
    await tend.workspaces.ensureDefault();
    await tend.close();
    return;
  }
  const baseline = process.memoryUsage().rss;
  let sampled = baseline;
  const timer = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 100);
  try {
    const { workspace } = await tend.workspaces.ensureDefault();
    const progress = createProgress(`  ${target}: importing (bytes read)`, statSync(file).size, process.stderr);
    let done = 0;
    const started = performance.now();
    const job = await importFile(tend, {
      workspaceId: workspace.id,
      kind: 'orders',
      path: file,
      onBytes: (read) => {
        progress.add(read - done);
        done = read;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    progress.finish();
    clearInterval(timer);
    const result: ImportBenchResult = {
      target, rows: job.rowsTotal, accepted: job.rowsAccepted, seconds, rowsPerSecond: job.rowsTotal / seconds, baselineRssMb: baseline / 1024 / 1024,
      peakRssMb: process.resourceUsage().maxRSS / 1024, sampledPeakRssMb: sampled / 1024 / 1024,
    };
    if (job.status !== 'completed') throw new Error(`import ${job.status}: ${job.message}`);
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    clearInterval(timer);
    if (target === 'server') await db.query(`drop schema ${schema} cascade`);
    await tend.close();
  }
}

function runChild(target: 'server' | 'embedded' | 'init', file: string, dir: string, semiSpaceMb?: number): Promise<ImportBenchResult> {
  const flags = semiSpaceMb ? [`--max-semi-space-size=${semiSpaceMb}`] : [];
  const proc = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', target, '--file', file, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() || 'null') as ImportBenchResult) : reject(new Error(`${target} import exited with ${code}`)))),
  );
}

/** Generates the file, imports it into each target and prints rows/s and peak RSS. */
export async function run(options: ImportBenchOptions | string[] = {}): Promise<ImportBenchResult[]> {
  const o = Array.isArray(options) ? parseOptions(options) : options;
  const rows = o.rows ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-orders-'));
  const file = join(dir, 'orders.csv');
  const results: ImportBenchResult[] = [];
  try {
    const t = performance.now();
    await writeOrdersCsv(file, rows);
    console.log(
      `import: ${rows.toLocaleString('en')} orders, ${(statSync(file).size / 1e6).toFixed(1)} MB of CSV written in ${((performance.now() - t) / 1000).toFixed(1)} s` +
        (o.semiSpaceMb ? `; imports run with --max-semi-space-size=${o.semiSpaceMb}` : ''),
    );
    for (const target of ['server', 'embedded'] as const) {
      if (o[target] === false) continue;
      const data = join(dir, 'data');
      if (target === 'embedded') await runChild('init', file, data);
      const r = await runChild(target, file, data, o.semiSpaceMb);
      results.push(r);
      console.log(
        `${target === 'server' ? 'Postgres server' : 'embedded database'}: ${r.accepted.toLocaleString('en')} rows in ${r.seconds.toFixed(1)} s = ${Math.round(r.rowsPerSecond).toLocaleString('en')} rows/s; ` +
          `peak RSS ${r.peakRssMb.toFixed(0)} MB (sampled every 100 ms: ${r.sampledPeakRssMb.toFixed(0)} MB; ${r.baselineRssMb.toFixed(0)} MB with the database open before the import), ` +
          `${r.peakRssMb < LIMIT_MB ? 'under' : 'OVER'} the ${LIMIT_MB} MB target`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function parseOptions(argv: string[]): ImportBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string' }, 'skip-server': { type: 'boolean' }, 'skip-embedded': { type: 'boolean' }, 'semi-space': { type: 'string' } },
  });
  const rows = values.rows === undefined ? undefined : Number(values.rows);
  if (rows !== undefined && (!Number.isInteger(rows) || rows < 1)) throw new Error('--rows must be a positive whole number');
  const semiSpaceMb = values['semi-space'] === undefined ? 16 : Number(values['semi-space']);
  if (!Number.isInteger(semiSpaceMb) || semiSpaceMb < 0) throw new Error('--semi-space must be a whole number of MB (0: V8 default)');
  return { rows, server: !values['skip-server'], embedded: !values['skip-embedded'], semiSpaceMb: semiSpaceMb || undefined };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { child: { type: 'string' }, file: { type: 'string' }, dir: { type: 'string' } } });
  if (values.child === 'server' || values.child === 'embedded' || values.child === 'init') await child(values.child, String(values.file), String(values.dir));
  else await run(process.argv.slice(2));
}
