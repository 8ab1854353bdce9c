import { z } from 'zod';
import { ConfigError } from '../../config.ts';

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'a number in E.164 form, e.g. +48500100200');
const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL');

/** Twilio's Messages API (or anything that speaks it). */
export const TwilioConfig = z.object({
  kind: z.literal('twilio'),
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID (AC followed by 32 hex digits)'),
  authToken: z.string().min(16),
  /** The sending number or alphanumeric sender id … */
  from: z.union([e164, z.string().regex(/^[A-Za-z0-9 ]{1,11}$/, 'an E.164 number or an alphanumeric sender id')]).optional(),
  /** … or a Messaging Service that picks one. */
  messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG…)').optional(),
  baseUrl: httpUrl,
  /** Where Twilio reports delivery (Tend's /hooks/sms/twilio); Tend adds `?k=<idempotency key>`. */
  statusCallbackUrl: httpUrl.optional(),
  allowPrivate: flag,
  timeoutMs: z.coerce.number().int().min(100).max(120_000),
});
export type TwilioConfig = z.infer<typeof TwilioConfig>;

/** A generic JSON-over-HTTP SMS gateway. */
export const HttpSmsConfig = z.object({
  kind: z.literal('http'),
  url: httpUrl,
  token: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  allowPrivate: flag,
  timeoutMs: z.coerce.number().int().min(100).max(120_000),
});
export type HttpSmsConfig = z.infer<typeof HttpSmsConfig>;

export const SmsConfig = z.discriminatedUnion('kind', [TwilioConfig, HttpSmsConfig]);
export type SmsConfig = z.infer<typeof SmsConfig>;

const envNames: Record<string, string> = {
  accountSid: 'TEND_TWILIO_ACCOUNT_SID',
  authToken: 'TEND_TWILIO_AUTH_TOKEN',
  messagingServiceSid: 'TEND_TWILIO_MESSAGING_SERVICE_SID',
  baseUrl: 'TEND_TWILIO_BASE_URL',
  statusCallbackUrl: 'TEND_SMS_STATUS_CALLBACK_URL',
  from: 'TEND_SMS_FROM',
  url: 'TEND_SMS_URL',
  token: 'TEND_SMS_TOKEN',
  allowPrivate: 'TEND_SMS_ALLOW_PRIVATE',
  timeoutMs: 'TEND_SMS_TIMEOUT_MS',
};

/**
 * The SMS channel's configuration: Twilio when `TEND_TWILIO_ACCOUNT_SID` is set, the generic HTTP
 * gateway when `TEND_SMS_URL` is, none otherwise. A bad value names the variable to fix.
 */
export function smsConfigFromEnv(env: NodeJS.ProcessEnv): SmsConfig | undefined {
  const common = {
    from: env.TEND_SMS_FROM || undefined,
    allowPrivate: env.TEND_SMS_ALLOW_PRIVATE || false,
    timeoutMs: env.TEND_SMS_TIMEOUT_MS || 10_000,
  };
  let input: Record<string, unknown>;
  if (env.TEND_TWILIO_ACCOUNT_SID) {
    if (env.TEND_SMS_URL) throw new ConfigError('configuration: set either TEND_TWILIO_ACCOUNT_SID or TEND_SMS_URL, not both');
    if (!env.TEND_TWILIO_AUTH_TOKEN) throw new ConfigError('configuration: TEND_TWILIO_AUTH_TOKEN is required with TEND_TWILIO_ACCOUNT_SID');
    if (!env.TEND_SMS_FROM && !env.TEND_TWILIO_MESSAGING_SERVICE_SID) {
      throw new ConfigError('configuration: TEND_SMS_FROM (the sending number) or TEND_TWILIO_MESSAGING_SERVICE_SID is required with TEND_TWILIO_ACCOUNT_SID');
    }
    const publicUrl = env.TEND_PUBLIC_URL?.replace(/\/+$/, '');
    input = {
      kind: 'twilio',
      ...common,
      accountSid: env.TEND_TWILIO_ACCOUNT_SID,
      authToken: env.TEND_TWILIO_AUTH_TOKEN,
      messagingServiceSid: env.TEND_TWILIO_MESSAGING_SERVICE_SID || undefined,
      baseUrl: env.TEND_TWILIO_BASE_URL || 'https://api.twilio.com',
      statusCallbackUrl: env.TEND_SMS_STATUS_CALLBACK_URL || (publicUrl ? `${publicUrl}/hooks/sms/twilio` : undefined),
    };
  } else if (env.TEND_SMS_URL) {
    input = { kind: 'http', ...common, url: env.TEND_SMS_URL, token: env.TEND_SMS_TOKEN || undefined };
  } else {
    return undefined;
  }
  const parsed = SmsConfig.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`configuration: ${envNames[String(issue.path[0])] ?? String(issue.path[0])} is not valid: ${issue.message}`);
  }
  return parsed.data;
}
