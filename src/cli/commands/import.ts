import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { importFile, importKindNames, csvLine, type ImportJob, type ImportKindName, type ImportMode, type RowError } from '../../imports/index.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import { readServerLock } from '../lock.ts';
import { createProgress } from '../progress.ts';
import { CliError, type CliContext } from '../context.ts';

/** How many rejected rows the summary lists; the rest are in the job (and in --errors FILE). */
const PRINTED_ERRORS = 100;

type Summary = Pick<ImportJob, 'id' | 'kind' | 'status' | 'rowsTotal' | 'rowsAccepted' | 'rowsRejected' | 'errors' | 'message' | 'mode' | 'startedAt' | 'finishedAt'> & { uploaded: boolean };

export const importCommand = {
  name: 'import',
  summary: 'Import contacts, products, orders, order items or events from a CSV file',
  usage:
    'tend import contacts|products|orders|order-items|events FILE [--all-or-nothing] [--json] [--errors FILE]\n' +
    '  --all-or-nothing  import nothing when any row is rejected (one transaction)\n' +
    '  --json            print the import job as JSON\n' +
    '  --errors FILE     write every rejected row to FILE as CSV (line,column,message)\n' +
    'Formats: docs/csv-formats.md. Exit code 0: every row imported; 1: rows rejected or the file refused; 2: usage.',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'all-or-nothing': { type: 'boolean' }, json: { type: 'boolean' }, errors: { type: 'string' } },
    });
    const [kind, file, ...rest] = positionals;
    if (!kind || !file || rest.length > 0) throw new CliError(`usage: ${this.usage}`, 2);
    if (!(importKindNames as readonly string[]).includes(kind)) throw new CliError(`unknown kind "${kind}"; choose one of ${importKindNames.join(', ')}`, 2);
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new CliError(`${file} is not a file`, 2);
      size = st.size;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
    }
    const mode: ImportMode = values['all-or-nothing'] ? 'all' : 'rows';
    const errorsOut = values.errors ? createWriteStream(values.errors) : null;
    errorsOut?.write(csvLine(['line', 'column', 'message']));
    const onError = errorsOut ? (e: RowError) => errorsOut.write(csvLine([e.line, e.column, e.message])) : undefined;
    const progress = createProgress(`Importing ${basename(file)} (bytes read)`, size, ctx.err);
    let done = 0;
    const track = (read: number) => {
      progress.add(read - done);
      done = read;
    };
    let job: Summary;
    try {
      job = await importHere(ctx, { kind: kind as ImportKindName, file, mode, onError, track });
    } finally {
      progress.finish();
      if (errorsOut) await closeStream(errorsOut);
    }
    printSummary(ctx, job, { file, json: Boolean(values.json), errorsFile: values.errors, uploaded: job.uploaded });
    return job.status === 'completed' && job.rowsRejected === 0 ? 0 : 1;
  },
};

type Run = { kind: ImportKindName; file: string; mode: ImportMode; onError?: (e: RowError) => void; track: (read: number) => void };

/**
 * Imports into the database directly, or, while a server holds the embedded database and an admin
 * token is set, uploads the file to that server's admin API.
 */
async function importHere(ctx: CliContext, run: Run): Promise<Summary> {
  const lock = ctx.config.databaseUrl ? null : readServerLock(ctx.config.dataDir);
  if (lock && ctx.config.adminToken) return upload(lock.url, ctx.config.adminToken, run);
  let tend;
  try {
    tend = await ctx.openTend();
  } catch (err) {
    if (err instanceof CliError && lock) {
      throw new CliError(`${err.message}\nOr set TEND_ADMIN_TOKEN to an admin token, and tend import uploads the file to that server.`, err.exitCode);
    }
    throw err;
  }
  try {
    const { issued } = await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
    if (issued.adminToken) ctx.err.write(`A new workspace was created. Its admin token is shown this once: ${issued.adminToken}\n`);
    const job = await importFile(tend, { workspaceId: DEFAULT_WORKSPACE_ID, kind: run.kind, mode: run.mode, path: run.file, onError: run.onError, onBytes: run.track });
    return { ...job, uploaded: false };
  } finally {
    await tend.close();
  }
}

async function upload(url: string, token: string, run: Run): Promise<Summary> {
  const stream = createReadStream(run.file, { highWaterMark: 256 * 1024 });
  async function* body() {
    let read = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      run.track(read);
      yield chunk;
    }
  }
  const query = new URLSearchParams({ mode: run.mode, source: basename(run.file) });
  let res: Response;
  try {
    res = await fetch(`${url}/api/imports/${run.kind}?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: body() as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
  } catch (err) {
    throw new CliError(`could not upload to the Tend server at ${url}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  const answer = (await res.json().catch(() => ({}))) as { job?: Summary; error?: string } & Partial<Summary>;
  if (res.status === 401) throw new CliError(`the Tend server at ${url} refused the admin token in TEND_ADMIN_TOKEN`);
  const job = answer.job ?? (res.ok ? (answer as Summary) : null);
  if (!job) throw new CliError(`the Tend server at ${url} answered ${res.status}: ${answer.error ?? 'no import job'}`);
  if (run.onError) for (const e of job.errors) run.onError(e); // the server keeps the first 1,000
  return { ...job, uploaded: true };
}

function printSummary(ctx: CliContext, job: Summary, o: { file: string; json: boolean; errorsFile?: string; uploaded: boolean }): void {
  if (o.json) {
    const { uploaded: _uploaded, ...record } = job;
    ctx.out.write(JSON.stringify(record, null, 2) + '\n');
    return;
  }
  const n = (x: number) => x.toLocaleString('en');
  const name = basename(o.file);
  const w = (s: string) => ctx.out.write(s + '\n');
  if (job.status === 'failed' && job.rowsTotal === 0) w(`${name} was refused: ${job.message} (import job #${job.id})`);
  else if (job.status === 'failed' && job.mode === 'all') w(`Nothing was imported from ${name}: ${job.message} (import job #${job.id})`);
  else if (job.status === 'failed') w(`Imported ${n(job.rowsAccepted)} of ${n(job.rowsTotal)} rows read from ${name}, then ${job.message} (import job #${job.id})`);
  else {
    // Dates arrive as text from the server's JSON.
    const seconds = (new Date(job.finishedAt ?? Date.now()).getTime() - new Date(job.startedAt).getTime()) / 1000;
    const rate = job.rowsTotal / Math.max(seconds, 0.001);
    w(`Imported ${n(job.rowsAccepted)} of ${n(job.rowsTotal)} rows (${job.kind}) from ${name} in ${seconds.toFixed(1)} s (${n(Math.round(rate))} rows/s)` +
      `${job.rowsRejected ? `; ${n(job.rowsRejected)} rejected` : ''} (import job #${job.id})${job.message ? `: ${job.message}` : ''}`);
  }
  if (job.rowsRejected === 0) return;
  w(job.rowsRejected === 1 ? 'Rejected row:' : 'Rejected rows:');
  for (const e of job.errors.slice(0, PRINTED_ERRORS)) w(`  line ${e.line}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
  const more = job.rowsRejected - Math.min(job.errors.length, PRINTED_ERRORS);
  if (more > 0) {
    // An upload's errors come from the server's job, which keeps the first 1,000.
    const where =
      o.errorsFile && job.errors.length < job.rowsRejected && o.uploaded
        ? `the first ${n(job.errors.length)} are in ${o.errorsFile} and in import job #${job.id} (GET /api/imports/${job.id})`
        : o.errorsFile
          ? `every one is in ${o.errorsFile}`
          : `the first ${n(job.errors.length)} are in import job #${job.id} (GET /api/imports/${job.id}); --errors FILE writes every one`;
    w(`  … and ${n(more)} more: ${where}`);
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
