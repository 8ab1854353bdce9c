/**
 * The channel providers this installation has, built from the environment once at start. A channel
 * whose variables are not set is absent (the pipeline fails its messages with "no provider");
 * every misconfigured variable is reported at once, by name, before anything runs.
 */
import { ConfigError } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { emailConfigFromEnv } from './email/config.ts';
import { createSmtpProvider, type SmtpProvider } from './email/provider.ts';
import type { ChannelProvider } from './port.ts';
import { printConfigFromEnv } from './print/config.ts';
import { createPrintProvider, type PrintProvider } from './print/provider.ts';
import { pushConfigFromEnv } from './push/config.ts';
import { createWebPushProvider } from './push/provider.ts';
import { smsConfigFromEnv } from './sms/config.ts';
import { createHttpSmsProvider, createTwilioProvider } from './sms/provider.ts';
import { webhookConfigFromEnv } from './webhook/config.ts';
import { createWebhookProvider } from './webhook/provider.ts';

export type ProviderRegistry = {
  email?: SmtpProvider;
  sms?: ChannelProvider<'sms'>;
  push?: ChannelProvider<'push'>;
  print?: PrintProvider;
  webhook?: ChannelProvider<'webhook'>;
};

export type ProviderDeps = { clock?: Clock; onError?: (err: Error) => void };

/** Builds the configured providers; throws one ConfigError naming every variable to fix. */
export function createProvidersFromEnv(env: NodeJS.ProcessEnv = process.env, deps: ProviderDeps = {}): ProviderRegistry {
  const problems: string[] = [];
  const read = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message.replace(/^configuration: /, ''));
      return undefined;
    }
  };
  const email = read(() => emailConfigFromEnv(env));
  const sms = read(() => smsConfigFromEnv(env));
  const push = read(() => pushConfigFromEnv(env));
  const print = read(() => printConfigFromEnv(env));
  const webhook = read(() => webhookConfigFromEnv(env));
  if (problems.length === 1) throw new ConfigError(`configuration: ${problems[0]}`);
  if (problems.length > 1) throw new ConfigError(`configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

  const registry: ProviderRegistry = {};
  if (email) registry.email = createSmtpProvider(email);
  if (sms) registry.sms = sms.kind === 'twilio' ? createTwilioProvider(sms, deps) : createHttpSmsProvider(sms, deps);
  if (push) registry.push = createWebPushProvider(push, deps);
  if (print) registry.print = createPrintProvider(print, deps);
  if (webhook) registry.webhook = createWebhookProvider(webhook, deps);
  return registry;
}

/** Closes every provider: pooled SMTP connections are released and the waiting print batch is written. */
export async function closeProviders(registry: ProviderRegistry): Promise<void> {
  await Promise.all(Object.values(registry).map((p: ChannelProvider | undefined) => p?.close()));
}
