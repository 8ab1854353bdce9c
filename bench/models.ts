// Customer models at scale, through the database: 1,000,000 customers simulated from the BG/NBD
// purchase process (CDNOW parameters, per day) and the Gamma-Gamma spend process are written as
// orders into a fresh schema on the Postgres server; then Tend fits the models (input aggregation
// in SQL + optimisation) and scores every customer for the first time (aggregating everybody's
// orders and inserting every row of contact_scores). Then come the days after, each with a
// rescoring as the scheduler runs every day, which reuses the order summaries stored with the
// scores (src/models/scores/pages.ts) and writes only the rows that moved
// (src/models/scores/changes.ts): first `--days` days to let the stored rows drift apart as
// they do in use, then `--measured-days` days measured, each a refit from the order history and
// a rescoring. "Scoring faster than the fit" is each measured day's rescoring against that day's
// fit.
// Reported per phase: wall seconds, CPU seconds of this process and of its Postgres backends (the
// machine may be shared: CPU time is what the work costs), the load average, and the peak
// resident memory of this process. For
// comparison: the raw speed of writing the same rows server-side, and the in-memory fit
// (bench/models-fit.ts) on a summary already in memory.
//   npm run bench -- models [--customers N] [--parallel N] [--days N] [--measured-days N] [--keep | --reuse SCHEMA] [--skip-memory]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { openDatabase, type Db } from '../src/db/index.ts';
import { VirtualClock, DAY_MS } from '../src/core/clock.ts';
import { createModelService, loadSimulatedOrders, type SimulateOrdersOptions } from '../src/models/scores/index.ts';
import { fmt, serverUrl } from './lib/stats.ts';
import { measure as measureInMemory } from './models-fit.ts';

const APP = 'tend-bench-models';
const AS_OF = '2026-06-30';
const TRUTH = { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426 };

/** The day `n` days after a YYYY-MM-DD date. */
const dayAfter = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/**
 * CPU seconds (user + system) used so far by each of this benchmark's Postgres backends, when they
 * run on this machine.
 */
async function backendCpu(db: Db): Promise<Map<number, number> | null> {
  const { rows } = await db.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1`, [APP]);
  const cpu = new Map<number, number>();
  try {
    for (const { pid } of rows) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / 100); // utime, stime (fields 14 and 15 of stat), in USER_HZ
    }
  } catch {
    return null; // the server is elsewhere
  }
  return cpu;
}

// What the backends used between two readings: a backend that is new at the end counts from zero
// (the pool opened it during the phase); one gone at the end had been idle for the pool's idle
// timeout, so it used nothing worth counting in the phase.
function cpuBetween(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (before === null || after === null) return null;
  let seconds = 0;
  for (const [pid, end] of after) seconds += end - (before.get(pid) ?? 0);
  return seconds;
}

// Samples this process's resident memory every 20 ms, for a per-phase peak.
function rssSampler() {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const timer = setInterval(sample, 20);
  return {
    reset: () => (peak = process.memoryUsage.rss()),
    peakMiB: () => (sample(), peak / 2 ** 20),
    stop: () => clearInterval(timer),
  };
}

type Phase = { seconds: number; nodeCpu: number; dbCpu: number | null; load: number; peakMiB: number };

async function phase<T>(db: Db, rss: ReturnType<typeof rssSampler>, fn: () => Promise<T>): Promise<{ result: T; phase: Phase }> {
  const load = loadavg()[0]!;
  rss.reset();
  const db0 = await backendCpu(db);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const db1 = await backendCpu(db);
  return { result, phase: { seconds, nodeCpu: (cpu.user + cpu.system) / 1e6, dbCpu: cpuBetween(db0, db1), load, peakMiB: rss.peakMiB() } };
}

const line = (name: string, p: Phase, extra = '') =>
  `${name.padEnd(34)} ${p.seconds.toFixed(2).padStart(7)} s   CPU: node ${p.nodeCpu.toFixed(2)} s, postgres ${p.dbCpu === null ? '?' : p.dbCpu.toFixed(2)} s   ` +
  `peak RSS ${p.peakMiB.toFixed(0)} MiB   load ${p.load.toFixed(1)}${extra ? `   ${extra}` : ''}`;

/** Runs the benchmark and prints its figures; returns them too. */
export async function run(argv: string[] = []) {
  const { values } = parseArgs({ args: argv, options: { customers: { type: 'string', default: '1000000' }, parallel: { type: 'string', default: '2' }, keep: { type: 'boolean' }, reuse: { type: 'string' }, 'skip-memory': { type: 'boolean' },
    days: { type: 'string', default: '20' }, 'measured-days': { type: 'string', default: '3' } } });
  const customers = Number(values.customers);
  const parallel = Number(values.parallel);
  if (!(Number.isInteger(customers) && customers > 0)) throw new RangeError('--customers must be a positive integer');
  const days = Number(values.days);
  const measuredDays = Number(values['measured-days']);
  if (!(Number.isInteger(days) && days >= 0)) throw new RangeError('--days must be a whole number');
  if (!(Number.isInteger(measuredDays) && measuredDays >= 1)) throw new RangeError('--measured-days must be a positive integer');
  const base = serverUrl();
  const url = `${base}${base.includes('?') ? '&' : '?'}application_name=${APP}`;
  const schema = values.reuse ?? `bench_models_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ url, dataDir: null, schema, poolSize: 6 });
  const clock = new VirtualClock(`${AS_OF}T06:00:00Z`);
  const models = createModelService({ db, clock, parallel });
  const rss = rssSampler();
  const ws = 'bench';
  const options: SimulateOrdersOptions = { customers, bgnbd: TRUTH, spend: { p: 6.25, q: 3.74, gamma: 15.44 }, asOf: AS_OF, ageDays: { min: 364, max: 728 }, seed: 2024 };
  const figures: Record<string, Phase> = {};
  try {
    console.log(`models: ${fmt(customers)} customers, Postgres server, schema ${schema}, ${parallel} connection(s) per phase`);
    if (values.reuse) {
      const { rows } = await db.query<{ n: number; orders: number }>(`select (select count(*) from contacts where workspace_id = $1)::int as n, (select count(*) from orders where workspace_id = $1)::int as orders`, [ws]);
      if (rows[0]!.n === 0) throw new Error(`schema ${schema} holds no benchmark shop`);
      console.log(`reusing ${fmt(rows[0]!.n)} customers and ${fmt(rows[0]!.orders)} orders`);
    } else {
      await db.query(`insert into workspaces (id, name) values ($1, 'models benchmark')`, [ws]);
      const load = await phase(db, rss, () => loadSimulatedOrders(db, ws, options, clock.now()));
      console.log(line('load (simulate + insert orders)', load.phase, `${fmt(load.result)} orders`));
      // What autovacuum does after a bulk load: statistics, and the visibility map that lets the
      // model inputs be read from the index alone.
      const vacuum = await phase(db, rss, () => db.query(`vacuum analyze orders, contacts, customer_order_versions`));
      console.log(line('vacuum analyze', vacuum.phase));
    }
    // A clean slate for the scores (the schema is the benchmark's own).
    await db.query(`truncate contact_scores, model_fits, score_runs`);
    await db.query(`delete from events where workspace_id = $1 and name in ('RFM Cell Changed', 'Churn Risk Changed', 'Lifecycle Stage Changed')`, [ws]);

    const fit = await phase(db, rss, () => models.fit(ws, { asOf: AS_OF, timeUnit: 'days', score: false }));
    const f = fit.result.fit;
    figures.fit = fit.phase;
    let fitSeconds = fit.phase.seconds;
    console.log(line('fit (inputs + optimisation)', fit.phase, `inputs ${(f.timings.inputsMs / 1000).toFixed(2)} s, optimisation ${(f.timings.optimiseMs / 1000).toFixed(2)} s`));
    console.log(
      `  ${fmt(f.customers)} customers, ${fmt(f.patterns)} (x, t_x, T) patterns, ${fmt(f.repeatCustomers)} repeat customers; ` +
        `BG/NBD r=${f.bgnbd!.r.toFixed(3)} alpha=${f.bgnbd!.alpha.toFixed(2)} a=${f.bgnbd!.a.toFixed(3)} b=${f.bgnbd!.b.toFixed(3)} ` +
        `(simulated from ${TRUTH.r}, ${TRUTH.alpha.toFixed(2)}, ${TRUTH.a}, ${TRUTH.b}); Gamma-Gamma p=${f.gammaGamma!.p.toFixed(2)} q=${f.gammaGamma!.q.toFixed(2)} gamma=${f.gammaGamma!.gamma.toFixed(2)}`,
    );

    clock.advance(60_000);
    const first = await phase(db, rss, () => models.score(ws, { asOf: AS_OF }));
    figures.score = first.phase;
    const t = first.result.timings;
    console.log(
      line('score, first time (inserts)', first.phase, `${fmt(first.result.written)} rows, ${fmt(first.result.aggregated)} customers' orders aggregated; ` +
        `read wait ${(t.readMs / 1000).toFixed(1)} s, compute ${(t.computeMs / 1000).toFixed(1)} s, write ${(t.writeMs / 1000).toFixed(1)} s (summed over loops)`),
    );

    // The days after, each what the scheduler does every day: a refit and a rescoring. A
    // rescoring rewrites a row once one of its numbers has moved a whole step from what the row
    // holds (changes.ts), so the day after a first scoring, when every row was just written, is
    // the quietest there is: the rows drift apart over the following weeks, and what a rescoring
    // writes settles at about a tenth of them a day. The first `--days` days let them settle;
    // the `--measured-days` after them are measured.
    const written: number[] = [];
    const ratios: { wall: number; cpu: number | null }[] = [];
    const settling = performance.now();
    for (let d = 1; d <= days + measuredDays; d++) {
      const day = dayAfter(AS_OF, d);
      const measured = d > days;
      if (d === days + 1 && days > 0) {
        const shares = written.map((w) => `${(w * 100).toFixed(1)}`).join(', ');
        console.log(`${days} days of refits and rescorings (${((performance.now() - settling) / 1000).toFixed(1)} s in all), rows written each day: ${shares} %`);
      }
      // The night before: what autovacuum does with a table that got many new row versions (this
      // machine's server runs without autovacuum; a default one vacuums and analyses it within
      // the minute), and the checkpoints of a night (every five minutes by default). Without them
      // the day's run would be the first to read the new rows: it would set every row's hint
      // bits, dirtying every page, and plan without statistics; and the checkpointer would still
      // be writing out the previous day while the day's runs are measured.
      const night = await phase(db, rss, async () => {
        await db.query(`vacuum analyze contact_scores, customer_order_versions`);
        await db.query(`checkpoint`).catch(() => {}); // needs the pg_checkpoint role: without it, the night is shorter
      });
      if (measured) console.log(line(`the night before ${day}: vacuum analyze`, night.phase));

      clock.advance(DAY_MS);
      const refit = await phase(db, rss, () => models.fit(ws, { asOf: day, timeUnit: 'days', score: false }));
      fitSeconds = Math.max(fitSeconds, refit.phase.seconds);
      const next = await phase(db, rss, () => models.score(ws, { asOf: day }));
      written.push(next.result.written / next.result.scored);
      if (!measured) continue;
      const r = refit.result.fit.timings;
      console.log(line(`${day}: refit`, refit.phase, `inputs ${(r.inputsMs / 1000).toFixed(2)} s, optimisation ${(r.optimiseMs / 1000).toFixed(2)} s`));
      const n = next.result.timings;
      console.log(
        line(`${day}: rescore`, next.phase, `${fmt(next.result.aggregated)} customers' orders aggregated, ${fmt(next.result.written)} rows written, ${fmt(next.result.unchanged)} unchanged; ` +
          `${fmt(next.result.stageChanges)} stage, ${fmt(next.result.rfmChanges)} RFM cell, ${fmt(next.result.churnChanges)} churn band changes announced; ` +
          `read wait ${(n.readMs / 1000).toFixed(1)} s, compute ${(n.computeMs / 1000).toFixed(1)} s, write ${(n.writeMs / 1000).toFixed(1)} s`),
      );
      // Wall times swing with whatever else the machine runs; the CPU both phases cost much less.
      const cpu = (p: Phase) => (p.dbCpu === null ? null : p.nodeCpu + p.dbCpu);
      const [rescoreCpu, refitCpu] = [cpu(next.phase), cpu(refit.phase)];
      const ratio = { wall: next.phase.seconds / refit.phase.seconds, cpu: rescoreCpu !== null && refitCpu !== null ? rescoreCpu / refitCpu : null };
      ratios.push(ratio);
      console.log(
        `the daily run: rescoring ${next.phase.seconds.toFixed(2)} s / refit ${refit.phase.seconds.toFixed(2)} s = ${ratio.wall.toFixed(2)}` +
          (ratio.cpu !== null ? `; in CPU seconds (Node + Postgres) ${rescoreCpu!.toFixed(2)} / ${refitCpu!.toFixed(2)} = ${ratio.cpu.toFixed(2)}` : ''),
      );
      figures.dailyFit = refit.phase;
      figures.rescore = next.phase;
    }
    const walls = ratios.map((x) => x.wall.toFixed(2)).join(', ');
    const cpus = ratios.every((x) => x.cpu !== null) ? `; in CPU ${ratios.map((x) => x.cpu!.toFixed(2)).join(', ')}` : '';
    console.log(
      `rescoring / refit on ${measuredDays} day(s): ${walls}${cpus} (target: scoring faster than the fit, < 1: ` +
        `${ratios.filter((x) => x.wall < 1).length} of ${measuredDays}); every fit and refit under 5 s: ${fitSeconds < 5 ? 'met' : 'NOT met'}`,
    );

    // The limit: the same rows written by the server alone, without leaving it.
    await db.query(`create table scores_copy (like contact_scores including all)`);
    const limit = await phase(db, rss, () => db.query(`insert into scores_copy select * from contact_scores where workspace_id = $1`, [ws]));
    await db.query(`drop table scores_copy`);
    figures.writeLimit = limit.phase;
    console.log(line('limit: server-side copy of the rows', limit.phase));
  } finally {
    if (!values.keep && !values.reuse) await db.query(`drop schema ${schema} cascade`);
    else console.log(`the shop stays in schema ${schema}: run again with --reuse ${schema}; drop it with: drop schema ${schema} cascade`);
    await db.close();
  }
  let inMemory: ReturnType<typeof measureInMemory> | null = null;
  if (!values['skip-memory']) {
    console.log('in-memory fit of a summary already in memory (bench/models-fit.ts), for comparison:');
    inMemory = measureInMemory({ customers, log: (l) => console.log(`  ${l}`) });
  }
  rss.stop();
  return { figures, inMemory };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run(process.argv.slice(2));
