import { parseArgs } from 'node:util';
import { buildServer } from '../../server/app.ts';
import { writeServerLock } from '../lock.ts';
import { generateDemo } from './demo.ts';
import type { CliContext } from '../context.ts';
import { extraRoutes } from '../../server/plugins.ts';
import { startSegmentScheduler } from '../../segments/index.ts';

export const serveCommand = {
  name: 'serve',
  summary: 'Run the API, the tracking endpoint and the web app',
  usage: 'tend serve [--port N] [--demo]   (--demo: fill an empty workspace with a demo shop)',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, demo: { type: 'boolean' } } });
    const port = values.port !== undefined ? Number(values.port) : ctx.config.port;
    const tend = await ctx.openTend();
    const { issued } = await tend.workspaces.ensureDefault({ writeKey: ctx.config.writeKey, adminToken: ctx.config.adminToken });
    if (issued.writeKey || issued.adminToken) {
      ctx.err.write(
        `\nA new workspace was created. Its keys are shown this once (only their hashes are stored):\n` +
          `  write key (tracking API, Basic-auth user name): ${issued.writeKey}\n` +
          `  admin token (web app and /api, Bearer):          ${issued.adminToken}\n\n`,
      );
    }
    if (values.demo) {
      const { rows } = await tend.db.query<{ n: number }>(`select count(*)::int as n from contacts where workspace_id = 'default'`);
      if (rows[0]!.n === 0) await generateDemo(tend, { customers: 2000, months: 12, seed: 1 }, ctx);
    }
    const app = await buildServer(tend, { logger: ctx.config.logLevel === 'silent' ? false : { level: ctx.config.logLevel } }, extraRoutes);
    await app.listen({ port, host: ctx.config.host });
    const address = app.server.address();
    const url = `http://${ctx.config.host}:${typeof address === 'object' && address ? address.port : port}`;
    const scheduler = startSegmentScheduler({
      db: tend.db, clock: tend.clock, segments: tend.segments, intervalMs: ctx.config.segmentRefreshMinutes * 60_000,
      log: (line) => app.log.info(line),
    });
    const release = tend.db.kind === 'embedded' ? writeServerLock(ctx.config.dataDir, { pid: process.pid, url, startedAt: new Date().toISOString() }) : () => {};
    ctx.err.write(`Tend is running at ${url} (database: ${tend.db.kind === 'embedded' ? `embedded, ${ctx.config.dataDir}` : 'Postgres server'})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    ctx.err.write('Stopping…\n');
    await app.close();
    await scheduler.stop();
    await tend.close();
    release();
    return 0;
  },
};
