import { parseArgs } from 'node:util';
import { buildServer } from '../../server/app.ts';
import { writeServerLock } from '../lock.ts';
import { generateDemo } from './demo.ts';
import { DEFAULT_WORKSPACE_ID } from '../../workspaces/index.ts';
import type { CliContext } from '../context.ts';
import { extraRoutes } from '../../server/plugins.ts';
import { describeChannels, startBackgroundWork, untilStopped } from './worker.ts';

export const serveCommand = {
  name: 'serve',
  summary: 'Run the API, the tracking endpoint and the web app',
  usage: 'tend serve [--port N] [--demo]   (--demo: fill an empty workspace with a demo shop; every message goes to the outbox. TEND_WORKERS=0: no background work)',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, demo: { type: 'boolean' } } });
    const port = values.port !== undefined ? Number(values.port) : ctx.config.port;
    // The demo's customers have made-up addresses at real mail domains: never send to them.
    const tend = await ctx.openTend({ outboxOnly: values.demo === true });
    const { issued } = await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
    if (issued.writeKey || issued.adminToken) {
      ctx.err.write(
        `\nA new workspace was created. Its keys are shown this once (only their hashes are stored):\n` +
          `  write key (tracking API, Basic-auth user name): ${issued.writeKey}\n` +
          `  admin token (web app and /api, Bearer):          ${issued.adminToken}\n\n`,
      );
    }
    const app = await buildServer(tend, { logger: ctx.config.logLevel === 'silent' ? false : { level: ctx.config.logLevel } }, extraRoutes);
    await app.listen({ port, host: ctx.config.host });
    const address = app.server.address();
    const url = `http://${ctx.config.host}:${typeof address === 'object' && address ? address.port : port}`;
    // Without TEND_PUBLIC_URL, links in messages point at the address the server got.
    if (!ctx.config.publicUrl) tend.messaging.publicUrl = url;
    // Journeys, delivery and the schedules; with TEND_WORKERS=0 that is left to `tend worker` processes.
    const stopBackground = ctx.config.workers ? await startBackgroundWork(tend, ctx.config, (line) => app.log.info(line)) : async () => {};
    const release = tend.db.kind === 'embedded' ? writeServerLock(ctx.config.dataDir, { pid: process.pid, url, startedAt: new Date().toISOString() }) : () => {};
    // Listen for SIGINT/SIGTERM before saying "running": whoever waits for that line may stop us at once.
    const stopped = untilStopped();
    ctx.err.write(`Tend is running at ${url} (database: ${tend.db.kind === 'embedded' ? `embedded, ${ctx.config.dataDir}` : 'Postgres server'})\n`);
    ctx.err.write(
      ctx.config.workers
        ? `Background work (journeys, delivery, schedules) runs in this process. Channels: ${describeChannels(tend)}.\n`
        : 'TEND_WORKERS=0: no background work here; run `tend worker` processes for journeys and delivery.\n',
    );
    if (values.demo) ctx.err.write('Demo: every message goes to the outbox (shown in the web app); nothing is sent, whatever channels are configured.\n');
    // The demo shop fills in the background, through the same ingestion path as real data, so the
    // web app can be opened at once and its numbers grow while it loads.
    let demo: Promise<unknown> = Promise.resolve();
    const stopDemo = new AbortController();
    if (values.demo) {
      const { rows } = await tend.db.query<{ n: number }>(`select count(*)::int as n from contacts where workspace_id = 'default'`);
      if (rows[0]!.n === 0) {
        ctx.err.write('Filling the default workspace with a demo shop (1,000 customers, 12 months of history) …\n');
        demo = generateDemo(tend, { customers: 1000, months: 12, seed: 1 }, ctx, DEFAULT_WORKSPACE_ID, stopDemo.signal).then(
          (r) => ctx.err.write(`Demo shop ready: ${r.products} products, ${r.events.toLocaleString('en')} events. Open ${url}\n`),
          (err: Error) => ctx.err.write(`Demo shop failed: ${err.message}\n`),
        );
      }
    }
    await stopped;
    ctx.err.write('Stopping…\n');
    stopDemo.abort();
    await app.close();
    await demo;
    await stopBackground();
    await tend.close();
    release();
    return 0;
  },
};
