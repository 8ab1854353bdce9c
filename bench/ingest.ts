// Ingestion throughput: events/s through POST /v1/batch into the Postgres server (and the embedded
// database), with request latency, against the raw speed of multi-row INSERTs of the same rows
// into the same database, measured in the same run.
//   npm run bench -- ingest [--events N] [--warmup N] [--rounds N] [--batch N] [--concurrency N] [--skip-embedded]
// Both sides first run `--warmup` events of other customers, unmeasured: a server that has just
// started spends its first seconds compiling its hot code, which a running Tend does not; so does
// the raw insert's client. Then they take turns (`--rounds`), so both meet the same moods of a
// shared machine.
import http from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServerProcess } from './lib/server-process.ts';
import { fmt, quantile, serverUrl } from './lib/stats.ts';

type Message = Record<string, unknown>;

/** A realistic mix for a shop: product views and page views, some cart adds and identifies. `prefix` names the customers and the messages. */
export function makeMessages(count: number, users: number, seed = 1, prefix = 'bench'): Message[] {
  let s = seed >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const start = Date.parse('2026-10-01T00:00:00Z');
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const user = `${prefix}-u${Math.floor(rnd() * users)}`;
    const timestamp = new Date(start + i * 1000).toISOString();
    const sku = `SKU-${Math.floor(rnd() * 500)}`;
    const r = rnd();
    const base = { messageId: `${prefix}-${seed}-${i}`, userId: user, timestamp, context: { ip: '127.0.0.1', userAgent: 'bench' } };
    if (r < 0.55) out.push({ ...base, type: 'track', event: 'Product Viewed', properties: { sku, name: `Product ${sku}`, price: 19.99, category: 'Coffee' } });
    else if (r < 0.9) out.push({ ...base, type: 'page', name: 'Category', properties: { path: '/c/coffee', title: 'Coffee', url: 'https://shop.example/c/coffee' } });
    else if (r < 0.98) out.push({ ...base, type: 'track', event: 'Product Added', properties: { cart_id: `cart-${user}`, sku, price: 19.99, quantity: 1 } });
    else out.push({ ...base, type: 'identify', traits: { email: `${user}@example.com`, first_name: 'Bench' } });
  }
  return out;
}

/**
 * The load generator: `concurrency` keep-alive connections, each sending its next body as soon as
 * the previous answer is in. node:http rather than fetch: it needs half the CPU per request, and
 * on a 2-core machine every cycle the generator spends is taken from the server it measures.
 */
export async function postAll(url: string, writeKey: string, bodies: string[], concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const headers = { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`, 'content-type': 'application/json' };
  const post = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${url}/v1/batch`, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t0 = performance.now();
        const res = await post(body);
        latencies.push(performance.now() - t0);
        const json = JSON.parse(res.text) as { accepted?: number };
        if (res.status !== 200 || !json.accepted) {
          if (failed++ === 0) console.error(`first failed request: ${res.status} ${res.text}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { seconds, latencies, failed, clientCpu: (used.user + used.system) / 1e6 };
}

/** The raw side: multi-row INSERTs of the same rows into a copy of the events table, on `concurrency` connections opened up front. */
async function openRawInsert(url: string, schema: string, batch: number, concurrency: number) {
  const appName = `${schema}_raw`;
  const pool = new pg.Pool({ connectionString: url, max: concurrency, options: `-c search_path=${schema}`, application_name: appName });
  // Every connection open before the clock starts, so all their backends are counted.
  await Promise.all(Array.from({ length: concurrency }, () => pool.connect())).then((clients) => clients.forEach((c) => c.release()));
  await pool.query(`create table raw_events (like events including all)`);
  // The rows and their statements are made before the clock starts: only the inserts are timed.
  const prepare = (list: Message[], offset: number) => {
    const rows = list.map((m, i) => [
      'default', ((offset + i) % 20_000) + 1, m.messageId, m.type, (m.event ?? m.name ?? null), JSON.stringify(m.properties ?? m.traits ?? {}), JSON.stringify(m.context), m.timestamp, new Date(),
    ]);
    const statements: { text: string; values: unknown[] }[] = [];
    for (let i = 0; i < rows.length; i += batch) {
      const chunk = rows.slice(i, i + batch);
      const values = chunk.map((_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ');
      statements.push({
        text: `insert into raw_events (workspace_id, contact_id, message_id, type, name, properties, context, occurred_at, received_at) values ${values}`,
        values: chunk.flat(),
      });
    }
    return statements;
  };
  const insertAll = async (statements: { text: string; values: unknown[] }[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < statements.length) {
          const statement = statements[next++]!;
          await pool.query(statement.text, statement.values);
        }
      }),
    );
  };
  return {
    /** Inserts `list` (the messages from `offset` on), unmeasured. */
    insert: (list: Message[], offset: number) => insertAll(prepare(list, offset)),
    /** Inserts `list` (the messages from `offset` on), measured: seconds, CPU of the client and of its backends, write-ahead log. */
    async measured(list: Message[], offset: number) {
      const statements = prepare(list, offset);
      const before = await backendCpu(url, appName);
      const clientCpu = process.cpuUsage();
      const started = performance.now();
      await insertAll(statements);
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(clientCpu);
      const after = await backendCpu(url, appName);
      return { seconds, clientCpu: (used.user + used.system) / 1e6, postgresCpu: before.seconds === null || after.seconds === null ? null : after.seconds - before.seconds, wal: after.wal - before.wal };
    },
    close: () => pool.end(),
  };
}

/**
 * CPU seconds used so far by these local processes, from /proc (Linux, with Postgres on this
 * machine); null where that cannot be read. Rates swing with whatever else the machine runs, CPU
 * per event much less, so the benchmark prints both.
 */
export function cpuSeconds(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks of 1/100 s
    } catch {
      return null;
    }
  }
  return total;
}

/** CPU seconds of the Postgres backends whose connections call themselves `appName`. */
async function backendCpu(url: string, appName: string): Promise<{ pids: number[]; seconds: number | null; wal: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const pids = (await c.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1`, [appName])).rows.map((r) => r.pid);
    // The write-ahead log written so far (by everything on the server, which here is the benchmark).
    const wal = Number((await c.query<{ wal: string }>(`select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') as wal`)).rows[0]!.wal);
    return { pids, seconds: cpuSeconds(pids), wal };
  } finally {
    await c.end();
  }
}

const perEvent = (seconds: number | null, events: number) => (seconds === null ? 'n/a' : `${fmt((seconds / events) * 1e6, 1)} µs`);

function report(label: string, events: number, r: { seconds: number; latencies: number[]; failed: number; clientCpu: number }) {
  const rate = events / r.seconds;
  console.log(
    `${label}: ${fmt(events)} events in ${fmt(r.seconds, 1)} s = ${fmt(rate)} events/s; request latency p50 ${fmt(quantile(r.latencies, 0.5), 1)} ms, p99 ${fmt(quantile(r.latencies, 0.99), 1)} ms${r.failed ? `; ${r.failed} requests FAILED` : ''}`,
  );
  console.log(`  load generator CPU ${perEvent(r.clientCpu, events)} per event; load average at the end ${loadavg().map((x) => fmt(x, 2)).join(' ')}`);
  return rate;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { events: { type: 'string', default: '200000' }, warmup: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '4' }, batch: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '8' }, 'skip-embedded': { type: 'boolean' } },
  });
  const events = Number(values.events);
  const batch = Number(values.batch);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const messages = makeMessages(events, 20_000);
  const warmup = makeMessages(Number(values.warmup), 20_000, 1, 'warmup');
  const requests = (list: Message[]) => {
    const out: string[] = [];
    for (let i = 0; i < list.length; i += batch) out.push(JSON.stringify({ batch: list.slice(i, i + batch) }));
    return out;
  };
  const bodies = requests(messages);
  const warmupBodies = requests(warmup);
  const writeKey = `wk_bench_${randomBytes(8).toString('hex')}`;
  console.log(
    `ingest: ${fmt(events)} events after ${fmt(warmup.length)} unmeasured, in ${rounds} turns with the raw insert, ${batch} per request, ${concurrency} requests in flight, ${fmt(JSON.stringify(bodies[0]).length / 1024, 1)} KB per request; load average ${loadavg().map((x) => fmt(x, 2)).join(' ')}`,
  );

  const url = serverUrl();
  const schema = `bench_ingest_${randomBytes(4).toString('hex')}`;
  const appName = `${schema}_tend`;
  const server = await startServerProcess({ DATABASE_URL: url, TEND_DATABASE_SCHEMA: schema, TEND_WRITE_KEY: writeKey, TEND_DATABASE_POOL_SIZE: String(concurrency + 2), PGAPPNAME: appName });
  const raw = await openRawInsert(url, schema, batch, concurrency);
  const tend = { seconds: 0, latencies: [] as number[], failed: 0, clientCpu: 0, serverCpu: 0 as number | null, postgresCpu: 0 as number | null, wal: 0 };
  const direct = { seconds: 0, clientCpu: 0, postgresCpu: 0 as number | null, wal: 0 };
  const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  try {
    await postAll(server.url, writeKey, warmupBodies, concurrency);
    await raw.insert(warmup, 0);
    // The two sides take turns, a part of the events each, so that both meet the same moods of a
    // shared machine; each side's rate is its events over its own time.
    for (let r = 0; r < rounds; r++) {
      const from = Math.floor((bodies.length * r) / rounds);
      const to = Math.floor((bodies.length * (r + 1)) / rounds);
      const serverBefore = cpuSeconds([server.child.pid!]);
      const before = await backendCpu(url, appName);
      const round = await postAll(server.url, writeKey, bodies.slice(from, to), concurrency);
      const serverAfter = cpuSeconds([server.child.pid!]);
      // Connections opened during the round started from nothing; those open before had `before`.
      const after = await backendCpu(url, appName);
      tend.seconds += round.seconds;
      tend.latencies.push(...round.latencies);
      tend.failed += round.failed;
      tend.clientCpu += round.clientCpu;
      tend.serverCpu = add(tend.serverCpu, serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore);
      tend.postgresCpu = add(tend.postgresCpu, before.seconds === null || after.seconds === null ? null : after.seconds - before.seconds);
      tend.wal += after.wal - before.wal;
      const rawRound = await raw.measured(messages.slice(from * batch, to * batch), from * batch);
      direct.seconds += rawRound.seconds;
      direct.clientCpu += rawRound.clientCpu;
      direct.postgresCpu = add(direct.postgresCpu, rawRound.postgresCpu);
      direct.wal += rawRound.wal;
    }
  } finally {
    await raw.close();
    await server.stop();
  }
  const tendRate = report('Postgres server, POST /v1/batch', events, tend);
  console.log(`  CPU per event: Tend server ${perEvent(tend.serverCpu, events)}, Postgres ${perEvent(tend.postgresCpu, events)}; write-ahead log ${fmt(tend.wal / events)} bytes per event`);
  const rawRate = events / direct.seconds;
  console.log(`Postgres server, raw multi-row INSERT of the same rows (${batch} per statement): ${fmt(rawRate)} rows/s`);
  console.log(`  CPU per row: client ${perEvent(direct.clientCpu, events)}, Postgres ${perEvent(direct.postgresCpu, events)}; write-ahead log ${fmt(direct.wal / events)} bytes per row; load average at the end ${loadavg().map((x) => fmt(x, 2)).join(' ')}`);
  console.log(`ratio Tend / raw insert: ${fmt(tendRate / rawRate, 2)} (target ≥ 0.5); target ≥ 20,000 events/s: ${tendRate >= 20_000 ? 'met' : 'NOT met'}`);
  const cleanup = new pg.Client({ connectionString: url });
  await cleanup.connect();
  await cleanup.query(`drop schema ${schema} cascade`);
  await cleanup.end();

  if (!values['skip-embedded']) {
    const dir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
    const embedded = await startServerProcess({ TEND_DATA_DIR: dir, TEND_WRITE_KEY: writeKey, DATABASE_URL: '' });
    try {
      await postAll(embedded.url, writeKey, warmupBodies, concurrency);
      report('embedded database, POST /v1/batch', events, await postAll(embedded.url, writeKey, bodies, concurrency));
    } finally {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
