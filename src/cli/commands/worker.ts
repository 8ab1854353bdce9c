import { parseArgs } from 'node:util';
import type { Tend } from '../../tend.ts';
import type { Config } from '../../config.ts';
import { startSegmentScheduler } from '../../segments/index.ts';
import { startModelScheduler } from '../../models/scores/index.ts';
import { CliError, type CliContext } from '../context.ts';

/**
 * Tend's background work, all of it safe to run in any number of processes against one Postgres:
 * the journey runner and the delivery worker claim rows with FOR UPDATE SKIP LOCKED (a message is
 * claimed with a lease, TEND_DELIVERY_LEASE_SECONDS), and the trigger sweep, the segment refresh
 * and the model refits each take a lease per round. Returns the function that stops it all, after
 * the work in progress.
 */
export async function startBackgroundWork(tend: Tend, config: Config, log: (line: string) => void): Promise<() => Promise<void>> {
  const stopWorkers = await tend.startWorkers({ log });
  const segments = startSegmentScheduler({ db: tend.db, clock: tend.clock, segments: tend.segments, intervalMs: config.segmentRefreshMinutes * 60_000, log });
  // Models are refitted (and every contact rescored) once a day per workspace with orders.
  const refits = startModelScheduler({ db: tend.db, clock: tend.clock, models: tend.models, log });
  return async () => {
    await stopWorkers();
    await segments.stop();
    await refits.stop();
  };
}

/** "email: smtp, sms: outbox, …": where each channel's messages go. */
export function describeChannels(tend: Tend): string {
  return Object.entries(tend.messaging.providers ?? {}).map(([channel, p]) => `${channel}: ${p?.name ?? 'none'}`).join(', ');
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export const workerCommand = {
  name: 'worker',
  summary: 'Run only the background work (journeys, delivery, schedules), no HTTP: add these to scale out',
  usage: 'tend worker   (needs a Postgres server, DATABASE_URL; runs until SIGINT or SIGTERM)',
  async run(argv: string[], ctx: CliContext): Promise<number> {
    parseArgs({ args: argv, options: {} });
    if (!ctx.config.databaseUrl) {
      throw new CliError(
        'tend worker needs a Postgres server (DATABASE_URL). The embedded database has one writer, and `tend serve` already runs the background work on it.',
        2,
      );
    }
    const tend = await ctx.openTend();
    const log = (line: string) => {
      if (ctx.config.logLevel !== 'silent') ctx.err.write(`${new Date().toISOString()} ${line}\n`);
    };
    const stop = await startBackgroundWork(tend, ctx.config, log);
    // Listen before saying "running": whoever waits for that line may stop us at once.
    const stopped = untilStopped();
    ctx.err.write(`Tend worker running (pid ${process.pid}; ${describeChannels(tend)}). Stop it with Ctrl-C or SIGTERM.\n`);
    const signal = await stopped;
    ctx.err.write(`${signal}: finishing the work in progress…\n`);
    await stop();
    await tend.close();
    ctx.err.write('Tend worker stopped.\n');
    return 0;
  },
};
