/**
 * Print in batches. `send` spools the piece to disk and answers at once (accepted, with its cost);
 * `flush` turns everything spooled into one batch: a PDF and a CSV manifest in `<dir>/batches`,
 * then POSTs it to the vendor when one is configured. A batch is written when `batchSize` pieces
 * wait, when the oldest has waited `batchMaxWaitMinutes`, and on close.
 *
 * Files in `dir`:
 *   pending/<piece>.json      accepted, not yet in a batch (survives a restart)
 *   batches/<batch>.pdf|.csv  written batches; the manifest's rename is the batch's commit point
 *   batches/<batch>.sent      the vendor took the batch
 *   batched-keys.txt          "<idempotency key>\t<batch>" for every piece already in a batch
 *   flush.lock                held while a batch is written
 * A retry of a piece that is pending or already batched is accepted again and not added twice.
 * If Tend stops between writing a manifest and indexing its pieces, the next flush indexes the
 * newest manifest's pieces before anything else, so they are not printed twice. Several Tend
 * processes on one machine may share the folder: the index is append-only and re-read as it
 * grows, pending pieces are read from disk at each flush, and the lock lets one process write.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { csvLine, readCsv } from '../../imports/index.ts';
import type { ChannelProvider, OutgoingMessage, PrintPayload, SendResult } from '../port.ts';
import { outboundRequest, type Resolver } from '../ssrf.ts';
import type { PrintConfig } from './config.ts';
import { renderBatch, type Piece } from './render.ts';

export type PrintDeps = { clock?: Clock; resolve?: Resolver; onError?: (err: Error) => void };

export type BatchResult = {
  batchId: string;
  pieces: number;
  pages: number;
  pdfPath: string;
  manifestPath: string;
  mailingDate: string;
  /** Set when a vendor URL is configured: whether it took this batch (else it is sent again at the next flush). */
  delivered?: boolean;
  error?: string;
};

export type PrintProvider = ChannelProvider<'print'> & {
  /** Writes everything spooled as one batch and resends batches the vendor has not taken; null when nothing waits (or another process is writing the batch). */
  flush(): Promise<BatchResult | null>;
};

type Spooled = { key: string; acceptedAt: string; costCents: number; payload: PrintPayload };

export const manifestColumns = [
  'batch_id', 'piece_id', 'format', 'first_page', 'pages', 'name', 'address_line1', 'address_line2',
  'postal_code', 'city', 'region', 'country', 'cost_cents', 'mailing_date',
] as const;

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The next business day after `at` in the zone: not Saturday, Sunday or a listed holiday. */
export function nextMailingDay(at: Date, timeZone: string, holidays: readonly string[] = []): string {
  const day = new Date(`${localDate(at, timeZone)}T12:00:00Z`);
  do day.setUTCDate(day.getUTCDate() + 1);
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6 || holidays.includes(day.toISOString().slice(0, 10)));
  return day.toISOString().slice(0, 10);
}

/** A file name for a piece: the key itself when it is a safe name, else its hash. */
const fileFor = (key: string) => (/^[A-Za-z0-9_-]{1,120}$/.test(key) ? key : createHash('sha256').update(key).digest('hex'));

/** A flush lock older than this was left by a process that died mid-batch. */
const STALE_LOCK_MS = 30 * 60_000;

/** The print channel: PDF batches with a manifest, in a folder and optionally sent to a vendor. */
export function createPrintProvider(config: PrintConfig, deps: PrintDeps = {}): PrintProvider {
  const clock = deps.clock ?? systemClock;
  const pendingDir = join(config.dir, 'pending');
  const batchDir = join(config.dir, 'batches');
  const indexPath = join(config.dir, 'batched-keys.txt');
  const lockPath = join(config.dir, 'flush.lock');
  const batched = new Map<string, string>();
  let indexRead = 0;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  // Operations on the spool run one after another within a process (sends arrive concurrently);
  // between processes sharing the folder, a lock file guards writing a batch.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  /** Reads what was appended to the index since the last look (another process may have batched). */
  async function refreshIndex(): Promise<void> {
    let size: number;
    try {
      size = (await stat(indexPath)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (size <= indexRead) return;
    const handle = await open(indexPath, 'r');
    try {
      const buffer = Buffer.alloc(size - indexRead);
      await handle.read(buffer, 0, buffer.length, indexRead);
      const text = buffer.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(0, complete).split('\n')) {
        const [key, batch] = line.split('\t');
        if (key && batch) batched.set(key, batch);
      }
      indexRead += Buffer.byteLength(text.slice(0, complete));
    } finally {
      await handle.close();
    }
  }

  async function indexKeys(keys: string[], batchId: string): Promise<void> {
    if (keys.length === 0) return;
    await appendFile(indexPath, keys.map((k) => `${k}\t${batchId}\n`).join(''));
    for (const k of keys) batched.set(k, batchId);
  }

  async function manifestKeys(path: string): Promise<string[]> {
    const keys: string[] = [];
    let header: string[] | undefined;
    for await (const records of readCsv([await readFile(path, 'utf8')])) {
      for (const r of records) {
        if (!r.fields) continue;
        if (!header) header = r.fields;
        else keys.push(r.fields[header.indexOf('piece_id')]!);
      }
    }
    return keys;
  }

  /** A batch is committed when its manifest is in place; index its pieces if a crash came first. */
  async function reconcileNewestManifest(): Promise<void> {
    const newest = (await readdir(batchDir)).filter((f) => f.endsWith('.csv')).sort().at(-1);
    if (!newest) return;
    await refreshIndex();
    const missing = (await manifestKeys(join(batchDir, newest))).filter((k) => !batched.has(k));
    await indexKeys(missing, newest.slice(0, -4));
  }

  async function pendingFiles(): Promise<string[]> {
    return (await readdir(pendingDir)).filter((f) => f.endsWith('.json')).sort();
  }

  const ready = (async () => {
    await mkdir(pendingDir, { recursive: true });
    await mkdir(batchDir, { recursive: true });
    await refreshIndex();
    if ((await pendingFiles()).length > 0) armTimer();
  })();
  // Surface a broken spool at the first call, not as an unhandled rejection now.
  ready.catch(() => undefined);

  function armTimer(): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      flush().catch((err: Error) => deps.onError?.(err));
    }, config.batchMaxWaitMinutes * 60_000);
    timer.unref();
  }

  async function withLock<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      await writeFile(lockPath, `${process.pid} ${new Date().toISOString()}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lockPath)).mtimeMs;
      if (age < STALE_LOCK_MS) return null; // another process is writing a batch right now
      await rm(lockPath, { force: true });
      return withLock(fn);
    }
    try {
      return await fn();
    } finally {
      await rm(lockPath, { force: true });
    }
  }

  async function writeBatch(): Promise<BatchResult | null> {
    await reconcileNewestManifest();
    const pieces: Spooled[] = [];
    for (const file of await pendingFiles()) {
      const spooled = JSON.parse(await readFile(join(pendingDir, file), 'utf8')) as Spooled;
      if (batched.has(spooled.key)) await rm(join(pendingDir, file), { force: true });
      else pieces.push(spooled);
    }
    if (pieces.length === 0) return null;
    pieces.sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt) || a.key.localeCompare(b.key));
    const now = clock.now();
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const batchId = `${stamp}-${createHash('sha256').update(pieces.map((p) => p.key).join('\n')).digest('hex').slice(0, 8)}`;
    const mailingDate = nextMailingDay(now, config.timeZone, config.holidays);
    const rendered = await renderBatch(
      pieces.map((p): Piece => ({ id: p.key, payload: p.payload })),
      { ...config, now, title: `Tend print batch ${batchId}` },
    );
    let manifest = csvLine(manifestColumns);
    pieces.forEach((p, i) => {
      const a = p.payload.address;
      const pages = rendered.pages[i]!;
      manifest += csvLine([batchId, p.key, p.payload.format, pages.first, pages.count, a.name, a.line1, a.line2 ?? '', a.postalCode, a.city, a.region ?? '', a.country.toUpperCase(), p.costCents, mailingDate]);
    });
    const pdfPath = join(batchDir, `${batchId}.pdf`);
    const manifestPath = join(batchDir, `${batchId}.csv`);
    await writeFile(`${pdfPath}.tmp`, rendered.pdf);
    await rename(`${pdfPath}.tmp`, pdfPath);
    await writeFile(`${manifestPath}.tmp`, manifest);
    await rename(`${manifestPath}.tmp`, manifestPath);
    await indexKeys(pieces.map((p) => p.key), batchId);
    for (const p of pieces) await rm(join(pendingDir, `${fileFor(p.key)}.json`), { force: true });
    return { batchId, pieces: pieces.length, pages: rendered.pages.reduce((n, p) => n + p.count, 0), pdfPath, manifestPath, mailingDate };
  }

  /** POSTs a batch as multipart/form-data; the batch id is its Idempotency-Key. */
  async function sendToVendor(batchId: string): Promise<{ delivered: boolean; error?: string }> {
    const boundary = `tend-${createHash('sha256').update(batchId).digest('hex').slice(0, 24)}`;
    const part = (name: string, content: Buffer | string, file?: { filename: string; type: string }) =>
      Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file.filename}"\r\nContent-Type: ${file.type}` : ''}\r\n\r\n`),
        Buffer.from(content),
        Buffer.from('\r\n'),
      ]);
    const body = Buffer.concat([
      part('batch_id', batchId),
      part('manifest', await readFile(join(batchDir, `${batchId}.csv`)), { filename: `${batchId}.csv`, type: 'text/csv' }),
      part('pdf', await readFile(join(batchDir, `${batchId}.pdf`)), { filename: `${batchId}.pdf`, type: 'application/pdf' }),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': batchId };
    if (config.vendorToken) headers.authorization = `Bearer ${config.vendorToken}`;
    const res = await outboundRequest(config.vendorUrl!, { method: 'POST', headers, body, timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, resolve: deps.resolve });
    if (res.kind === 'response' && res.status >= 200 && res.status < 300) {
      await writeFile(join(batchDir, `${batchId}.sent`), `${clock.now().toISOString()} HTTP ${res.status}\n`);
      return { delivered: true };
    }
    return { delivered: false, error: res.kind === 'response' ? `vendor answered HTTP ${res.status}: ${res.body.slice(0, 200)}` : `${res.kind}: ${res.kind === 'refused' ? res.reason : res.error}` };
  }

  async function sendUnsent(result: BatchResult | null): Promise<void> {
    const files = await readdir(batchDir);
    const unsent = files.filter((f) => f.endsWith('.csv') && !files.includes(`${f.slice(0, -4)}.sent`)).map((f) => f.slice(0, -4)).sort();
    for (const batchId of unsent) {
      const outcome = await sendToVendor(batchId);
      if (result && batchId === result.batchId) Object.assign(result, outcome);
      else if (!outcome.delivered) deps.onError?.(new Error(`print batch ${batchId} not sent: ${outcome.error}`));
    }
  }

  function flush(): Promise<BatchResult | null> {
    return serial(async () => {
      await ready;
      if (timer) clearTimeout(timer);
      timer = null;
      return withLock(async () => {
        const result = await writeBatch();
        if (config.vendorUrl) await sendUnsent(result);
        return result;
      });
    });
  }

  return {
    channel: 'print',
    name: 'pdf',
    async send(message: OutgoingMessage<'print'>): Promise<SendResult> {
      const p = message.payload;
      const costCents = p.format === 'letter' ? config.letterCents : config.postcardCents;
      const key = message.idempotencyKey;
      const outcome = await serial(async (): Promise<SendResult | 'full'> => {
        await ready;
        if (closed) return { status: 'retry', error: 'the print channel is closing', retryAfterMs: 60_000 };
        await refreshIndex();
        if (batched.has(key)) return { status: 'accepted', providerMessageId: key, detail: `already in batch ${batched.get(key)}`, costCents };
        const file = join(pendingDir, `${fileFor(key)}.json`);
        try {
          await stat(file);
          return { status: 'accepted', providerMessageId: key, detail: 'already waiting for the next batch', costCents };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        const spooled: Spooled = { key, acceptedAt: clock.now().toISOString(), costCents, payload: p };
        await writeFile(`${file}.tmp`, JSON.stringify(spooled));
        await rename(`${file}.tmp`, file);
        armTimer();
        return (await pendingFiles()).length >= config.batchSize ? 'full' : { status: 'accepted', providerMessageId: key, detail: 'waiting for the next batch', costCents };
      });
      if (outcome !== 'full') return outcome;
      // The piece is safe in the spool whatever happens to the batch; a failed batch is retried by the next flush.
      const result = await flush().catch((err: Error) => {
        deps.onError?.(err);
        return null;
      });
      return { status: 'accepted', providerMessageId: key, detail: result ? `in batch ${result.batchId}` : 'waiting for the next batch', costCents };
    },
    flush,
    async close(): Promise<void> {
      const result = flush();
      closed = true;
      await result;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
