import { z } from 'zod';
import { ConfigError } from '../../config.ts';

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** Journey webhook steps: signed POSTs to URLs the marketer chooses. */
export const WebhookConfig = z.object({
  /** Signing secrets; every one signs each request, so receivers can move to a new one without a gap. */
  secrets: z.array(z.string().min(16, 'at least 16 characters')).min(1),
  timeoutMs: z.coerce.number().int().min(100).max(120_000),
  /** Lets webhook steps call loopback and private addresses. Only for a trusted, single-tenant set-up. */
  allowPrivate: flag,
});
export type WebhookConfig = z.infer<typeof WebhookConfig>;

const envNames: Record<keyof WebhookConfig, string> = {
  secrets: 'TEND_WEBHOOK_SECRET',
  timeoutMs: 'TEND_WEBHOOK_TIMEOUT_MS',
  allowPrivate: 'TEND_WEBHOOK_ALLOW_PRIVATE',
};

/** The webhook channel's configuration, or undefined without `TEND_WEBHOOK_SECRET` (no webhook steps). */
export function webhookConfigFromEnv(env: NodeJS.ProcessEnv): WebhookConfig | undefined {
  if (!env.TEND_WEBHOOK_SECRET) return undefined;
  const parsed = WebhookConfig.safeParse({
    secrets: env.TEND_WEBHOOK_SECRET.split(',').map((s) => s.trim()).filter(Boolean),
    timeoutMs: env.TEND_WEBHOOK_TIMEOUT_MS || 10_000,
    allowPrivate: env.TEND_WEBHOOK_ALLOW_PRIVATE || false,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`configuration: ${envNames[issue.path[0] as keyof WebhookConfig]} is not valid: ${issue.message}`);
  }
  return parsed.data;
}
