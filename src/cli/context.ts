import { loadConfig, type Config } from '../config.ts';
import { createTend, type Tend } from '../tend.ts';
import { readServerLock } from './lock.ts';

/** A failure the user can fix; printed without a stack trace, with this exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export type CliContext = {
  config: Config;
  out: NodeJS.WritableStream;
  err: NodeJS.WriteStream;
  /** Opens the database for a command; refuses while a server holds the embedded database. */
  openTend(): Promise<Tend>;
};

export function createCliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
  return {
    config,
    out: process.stdout,
    err: process.stderr,
    async openTend() {
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
      return createTend(config);
    },
  };
}
