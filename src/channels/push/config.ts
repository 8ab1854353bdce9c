import { createECDH } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { webpush } from './web-push.ts';
import { z } from 'zod';
import { ConfigError } from '../../config.ts';

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, `${what} in URL-safe base64 without padding`)
    .refine((s) => Buffer.from(s, 'base64url').length === bytes, `${what}: ${bytes} bytes when decoded`);

/** Web push with VAPID: the key pair identifies Tend to the browsers' push services. */
export const PushConfig = z.object({
  /** Uncompressed P-256 public key (65 bytes), also the browser's applicationServerKey. */
  publicKey: base64url(65, 'a P-256 public key'),
  privateKey: base64url(32, 'a P-256 private key'),
  /** How a push service can reach the sender: `mailto:` or an `https:` URL. */
  subject: z.string().regex(/^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/, 'a mailto: address or an https: URL'),
  /** Seconds a push service keeps a message for an offline browser when the message does not say. */
  defaultTtl: z.coerce.number().int().min(0).max(2_419_200),
  /** Where the service worker reports that it showed a notification (Tend's /hooks/push/receipt). */
  receiptUrl: z.string().url().optional(),
  timeoutMs: z.coerce.number().int().min(100).max(120_000),
  /** Only tests and local push services: endpoints on loopback or private networks. */
  allowPrivate: z.boolean(),
});
export type PushConfig = z.infer<typeof PushConfig>;

const envNames: Record<keyof PushConfig, string> = {
  publicKey: 'TEND_VAPID_PUBLIC_KEY',
  privateKey: 'TEND_VAPID_PRIVATE_KEY',
  subject: 'TEND_VAPID_SUBJECT',
  defaultTtl: 'TEND_PUSH_TTL_SECONDS',
  receiptUrl: 'TEND_PUSH_RECEIPT_URL',
  timeoutMs: 'TEND_PUSH_TIMEOUT_MS',
  allowPrivate: 'TEND_VAPID_PUBLIC_KEY',
};

export type VapidKeys = { publicKey: string; privateKey: string };

/** A fresh VAPID key pair. */
export function generateVapidKeys(): VapidKeys {
  return webpush().generateVAPIDKeys();
}

/**
 * The VAPID keys kept in `file`, created on first start. They must never change afterwards: every
 * browser subscription is bound to the public key, and a new pair orphans all of them.
 */
export async function loadOrCreateVapidKeys(file: string): Promise<VapidKeys & { created: boolean }> {
  try {
    const keys = JSON.parse(await readFile(file, 'utf8')) as VapidKeys;
    return { publicKey: keys.publicKey, privateKey: keys.privateKey, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys = generateVapidKeys();
  await mkdir(dirname(file), { recursive: true });
  try {
    // 'wx': when two processes start at once, the first one's keys win and the second reads them.
    await writeFile(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateVapidKeys(file);
    throw err;
  }
  return { ...keys, created: true };
}

/**
 * The push channel's configuration, or undefined when none of the TEND_VAPID_* variables is set.
 * Setting some but not all, or keys that do not belong together, names the variable to fix.
 */
export function pushConfigFromEnv(env: NodeJS.ProcessEnv): PushConfig | undefined {
  const names = ['TEND_VAPID_PUBLIC_KEY', 'TEND_VAPID_PRIVATE_KEY', 'TEND_VAPID_SUBJECT'] as const;
  if (names.every((n) => !env[n])) return undefined;
  const missing = names.find((n) => !env[n]);
  if (missing) throw new ConfigError(`configuration: ${missing} is required for web push (with ${names.filter((n) => n !== missing).join(' and ')}); generate a pair with \`npx web-push generate-vapid-keys --json\``);
  const publicUrl = env.TEND_PUBLIC_URL?.replace(/\/+$/, '');
  const parsed = PushConfig.safeParse({
    publicKey: env.TEND_VAPID_PUBLIC_KEY,
    privateKey: env.TEND_VAPID_PRIVATE_KEY,
    subject: env.TEND_VAPID_SUBJECT,
    defaultTtl: env.TEND_PUSH_TTL_SECONDS || 86_400,
    receiptUrl: env.TEND_PUSH_RECEIPT_URL || (publicUrl ? `${publicUrl}/hooks/push/receipt` : undefined),
    timeoutMs: env.TEND_PUSH_TIMEOUT_MS || 10_000,
    allowPrivate: false,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`configuration: ${envNames[issue.path[0] as keyof PushConfig]} is not valid: ${issue.message}`);
  }
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(parsed.data.privateKey, 'base64url'));
  if (ecdh.getPublicKey('base64url') !== parsed.data.publicKey) {
    throw new ConfigError('configuration: TEND_VAPID_PUBLIC_KEY is not valid: it is not the public key of TEND_VAPID_PRIVATE_KEY');
  }
  return parsed.data;
}
