import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createTend, type Tend } from '../tend.ts';
import { openDatabase } from '../db/index.ts';
import { systemClock } from '../core/clock.ts';
import { createProvidersFromEnv } from '../channels/providers.ts';
import { outboxProviders } from '../channels/outbox/provider.ts';
import type { Providers } from '../channels/delivery.ts';
import { readServerLock } from './lock.ts';

/** A failure the user can fix; printed without a stack trace, with this exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export type OpenOptions = {
  /** Every channel delivers to the outbox, whatever the environment configures (the demo: its customers are made up). */
  outboxOnly?: boolean;
};

export type CliContext = {
  config: Config;
  out: NodeJS.WritableStream;
  err: NodeJS.WriteStream;
  /** Opens the database for a command; refuses while a server holds the embedded database. */
  openTend(options?: OpenOptions): Promise<Tend>;
};

/** Opens Tend for a command that works in the default workspace (created if missing), runs `fn`, and closes it. */
export async function withDefaultWorkspace<T>(ctx: CliContext, fn: (tend: Tend) => Promise<T>): Promise<T> {
  const tend = await ctx.openTend();
  try {
    await tend.workspaces.ensureDefault();
    return await fn(tend);
  } finally {
    await tend.close();
  }
}

/** TEND_DELIVERY_LEASE_SECONDS: how long a claimed message stays claimed before another worker may retry it. */
function leaseMsFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.TEND_DELIVERY_LEASE_SECONDS;
  if (!raw) return 60_000;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 10 || seconds > 86_400) {
    throw new ConfigError('configuration: TEND_DELIVERY_LEASE_SECONDS is not valid: a whole number of seconds from 10 to 86400 (longer than the slowest provider takes to answer)');
  }
  return seconds * 1000;
}

/** Where links point when TEND_PUBLIC_URL is not set: this machine's address and port (a server replaces it with the port it got). */
function localUrl(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

export function createCliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
  return {
    config,
    out: process.stdout,
    err: process.stderr,
    async openTend(options: OpenOptions = {}) {
      if (!config.databaseUrl) {
        const lock = readServerLock(config.dataDir);
        if (lock) {
          throw new CliError(
            `the embedded database in ${config.dataDir} is in use by the Tend server (pid ${lock.pid}, ${lock.url}).\n` +
              `The embedded database has one writer: stop the server first, or use its admin API (${lock.url}/api, see docs/api.md),\n` +
              `or run Tend on a Postgres server (DATABASE_URL) to use the CLI and the server together.`,
            3,
          );
        }
      }
      const log = (line: string) => {
        if (config.logLevel !== 'silent') process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      };
      // Providers first: a misconfigured channel stops Tend before the database is opened.
      const leaseMs = leaseMsFromEnv(env);
      const configured = options.outboxOnly ? {} : createProvidersFromEnv(env, { clock: systemClock, onError: (err) => log(`channels: ${err.message}`) });
      const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema, poolSize: config.databasePoolSize });
      // A channel without its variables goes to the outbox (kept for viewing, sent nowhere).
      const providers: Providers = { ...outboxProviders(db, systemClock), ...configured };
      return createTend(config, {
        db,
        log,
        messaging: { providers, publicUrl: config.publicUrl ?? localUrl(config), emailFrom: env.TEND_EMAIL_FROM || undefined, leaseMs },
      });
    },
  };
}
