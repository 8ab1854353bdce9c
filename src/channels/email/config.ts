import { z } from 'zod';
import { ConfigError } from '../../config.ts';

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** Relays that read per-message custom arguments from a header of their own (see docs/channels.md). */
export const emailRelays = ['generic', 'ses', 'sendgrid', 'mailgun', 'postmark'] as const;

/** How Tend reaches its SMTP relay. */
export const EmailConfig = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535),
  /** TLS from the first byte (smtps://, usually port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean(),
  /** Refuse to send unless the server upgrades with STARTTLS. */
  requireTls: flag,
  /** False only for a local relay with a self-signed certificate. */
  tlsRejectUnauthorized: flag,
  user: z.string().optional(),
  pass: z.string().optional(),
  /** Default sender, e.g. `Shop <hello@shop.example>`. */
  from: z.string().min(3).regex(/@[^@\s>]+\.[^@\s>]+>?\s*$/, 'an address like "Shop <hello@shop.example>"'),
  /** The right-hand side of Message-IDs; defaults to the sender's domain. */
  messageIdDomain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'a domain name').optional(),
  maxConnections: z.coerce.number().int().min(1).max(100),
  /** Messages per connection before the pool opens a fresh one. */
  maxMessages: z.coerce.number().int().min(1).max(100_000),
  relay: z.enum(emailRelays),
  connectionTimeoutMs: z.coerce.number().int().min(100),
  socketTimeoutMs: z.coerce.number().int().min(100),
});
export type EmailConfig = z.infer<typeof EmailConfig>;

const envNames: Record<keyof EmailConfig, string> = {
  host: 'TEND_SMTP_URL',
  port: 'TEND_SMTP_URL',
  secure: 'TEND_SMTP_URL',
  user: 'TEND_SMTP_URL',
  pass: 'TEND_SMTP_URL',
  requireTls: 'TEND_SMTP_REQUIRE_TLS',
  tlsRejectUnauthorized: 'TEND_SMTP_TLS_REJECT_UNAUTHORIZED',
  from: 'TEND_EMAIL_FROM',
  messageIdDomain: 'TEND_EMAIL_MESSAGE_ID_DOMAIN',
  maxConnections: 'TEND_SMTP_POOL_SIZE',
  maxMessages: 'TEND_SMTP_MAX_MESSAGES',
  relay: 'TEND_SMTP_RELAY',
  connectionTimeoutMs: 'TEND_SMTP_TIMEOUT_MS',
  socketTimeoutMs: 'TEND_SMTP_TIMEOUT_MS',
};

/** Parses `smtp://user:pass@host:port` or `smtps://…` into connection settings. */
function parseSmtpUrl(raw: string): { host: string; port: number; secure: boolean; user?: string; pass?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('configuration: TEND_SMTP_URL is not valid: expected smtp://user:password@host:port or smtps://…');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError(`configuration: TEND_SMTP_URL is not valid: the scheme must be smtp:// or smtps://, not ${url.protocol}//`);
  }
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user: url.username ? decodeURIComponent(url.username) : undefined,
    pass: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/**
 * The email channel's configuration, or undefined when `TEND_SMTP_URL` is not set (no email channel).
 * A bad value throws a ConfigError that names the variable to fix.
 */
export function emailConfigFromEnv(env: NodeJS.ProcessEnv): EmailConfig | undefined {
  if (!env.TEND_SMTP_URL) return undefined;
  if (!env.TEND_EMAIL_FROM) throw new ConfigError('configuration: TEND_EMAIL_FROM is required with TEND_SMTP_URL (the sender, e.g. "Shop <hello@shop.example>")');
  const parsed = EmailConfig.safeParse({
    ...parseSmtpUrl(env.TEND_SMTP_URL),
    requireTls: env.TEND_SMTP_REQUIRE_TLS || false,
    tlsRejectUnauthorized: env.TEND_SMTP_TLS_REJECT_UNAUTHORIZED || true,
    from: env.TEND_EMAIL_FROM,
    messageIdDomain: env.TEND_EMAIL_MESSAGE_ID_DOMAIN || undefined,
    maxConnections: env.TEND_SMTP_POOL_SIZE || 5,
    maxMessages: env.TEND_SMTP_MAX_MESSAGES || 100,
    relay: env.TEND_SMTP_RELAY || 'generic',
    connectionTimeoutMs: env.TEND_SMTP_TIMEOUT_MS || 15_000,
    socketTimeoutMs: env.TEND_SMTP_TIMEOUT_MS ? Number(env.TEND_SMTP_TIMEOUT_MS) * 4 : 60_000,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`configuration: ${envNames[issue.path[0] as keyof EmailConfig]} is not valid: ${issue.message}`);
  }
  return parsed.data;
}
