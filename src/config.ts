import { z } from 'zod';

/** Tend's configuration, read once from the environment at start and validated. */
export const Config = z.object({
  databaseUrl: z.string().url().nullable(),
  /** A schema of its own on the Postgres server (several installations can share one database). */
  databaseSchema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _').optional(),
  /** Connections per process to the Postgres server. */
  databasePoolSize: z.coerce.number().int().min(1).max(200),
  /** Calls of the ingest function at once per workspace; tracking requests beyond wait and go together. */
  ingestCalls: z.coerce.number().int().min(1).max(200),
  dataDir: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  /** Where people, browsers and providers' webhooks reach Tend: links in messages and signed webhook URLs are built on it. */
  publicUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'an http(s) URL, e.g. https://tend.shop.example')
    .refine((u) => { const url = new URL(u); return !url.username && !url.password && !url.search && !url.hash; }, 'the address only: no user name, password, query or fragment')
    .nullable(),
  writeKey: z.string().min(8).optional(),
  adminToken: z.string().min(16).optional(),
  /** How often every segment is recomputed from scratch (time windows move without events). */
  segmentRefreshMinutes: z.coerce.number().min(0.05).max(1440),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** Whether `tend serve` also runs the background work (journeys, delivery, schedules); `tend worker` does it elsewhere. */
  workers: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true'),
});
export type Config = z.infer<typeof Config>;

const envNames: Record<keyof Config, string> = {
  databaseUrl: 'DATABASE_URL',
  databaseSchema: 'TEND_DATABASE_SCHEMA',
  databasePoolSize: 'TEND_DATABASE_POOL_SIZE',
  ingestCalls: 'TEND_INGEST_CALLS',
  dataDir: 'TEND_DATA_DIR',
  port: 'PORT',
  host: 'HOST',
  publicUrl: 'TEND_PUBLIC_URL',
  writeKey: 'TEND_WRITE_KEY',
  adminToken: 'TEND_ADMIN_TOKEN',
  segmentRefreshMinutes: 'TEND_SEGMENT_REFRESH_MINUTES',
  logLevel: 'LOG_LEVEL',
  workers: 'TEND_WORKERS',
};

export class ConfigError extends Error {}

/** Reads the configuration; a bad value fails fast with the variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Config.safeParse({
    databaseUrl: env.DATABASE_URL || null,
    databaseSchema: env.TEND_DATABASE_SCHEMA || undefined,
    databasePoolSize: env.TEND_DATABASE_POOL_SIZE || 10,
    ingestCalls: env.TEND_INGEST_CALLS || 3,
    dataDir: env.TEND_DATA_DIR || './.tend',
    port: env.PORT || 3000,
    host: env.HOST || '127.0.0.1',
    publicUrl: env.TEND_PUBLIC_URL || null,
    writeKey: env.TEND_WRITE_KEY || undefined,
    adminToken: env.TEND_ADMIN_TOKEN || undefined,
    segmentRefreshMinutes: env.TEND_SEGMENT_REFRESH_MINUTES || 5,
    logLevel: env.LOG_LEVEL || 'info',
    workers: env.TEND_WORKERS || '1',
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = envNames[issue.path[0] as keyof Config] ?? String(issue.path[0]);
    throw new ConfigError(`configuration: ${name} is not valid: ${issue.message}`);
  }
  return parsed.data;
}
