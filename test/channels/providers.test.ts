import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeProviders, createProvidersFromEnv } from '../../src/channels/providers.ts';
import { generateVapidKeys } from '../../src/channels/push/config.ts';
import { ConfigError } from '../../src/config.ts';
import { VirtualClock } from '../../src/core/clock.ts';

describe('createProvidersFromEnv', () => {
  it('has no channel when nothing is configured', () => {
    assert.deepEqual(createProvidersFromEnv({}), {});
  });

  it('builds each configured channel, and close() writes the waiting print batch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tend-providers-'));
    const keys = generateVapidKeys();
    try {
      const registry = createProvidersFromEnv(
        {
          TEND_SMTP_URL: 'smtp://127.0.0.1:2525',
          TEND_EMAIL_FROM: 'Shop <hello@shop.example>',
          TEND_SMS_URL: 'https://sms-gateway.example/send',
          TEND_VAPID_PUBLIC_KEY: keys.publicKey,
          TEND_VAPID_PRIVATE_KEY: keys.privateKey,
          TEND_VAPID_SUBJECT: 'mailto:ops@shop.example',
          TEND_PRINT_DIR: dir,
          TEND_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
        },
        { clock: new VirtualClock('2026-03-02T10:00:00Z') },
      );
      assert.deepEqual(
        Object.entries(registry).map(([channel, p]) => [channel, p.channel, p.name]),
        [['email', 'email', 'smtp'], ['sms', 'sms', 'http'], ['push', 'push', 'web-push'], ['print', 'print', 'pdf'], ['webhook', 'webhook', 'webhook']],
      );
      const accepted = await registry.print!.send({
        id: 'msg_1', idempotencyKey: 'abcd0001', workspaceId: 'ws', channel: 'print', transactional: false, attempt: 1,
        payload: { format: 'postcard', headline: 'Hi', body: 'Hello', address: { name: 'Jan Nowak', line1: 'ul. Prosta 1', city: 'Warszawa', postalCode: '00-001', country: 'PL' } },
      });
      assert.equal(accepted.status, 'accepted');
      await closeProviders(registry);
      assert.equal((await readdir(join(dir, 'batches'))).filter((f) => f.endsWith('.pdf')).length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports every misconfigured variable at once, by name', () => {
    assert.throws(
      () => createProvidersFromEnv({ TEND_SMTP_URL: 'smtp://mail.example', TEND_EMAIL_FROM: 'a@b.example', TEND_SMTP_POOL_SIZE: 'lots', TEND_TWILIO_ACCOUNT_SID: 'AC1', TEND_WEBHOOK_SECRET: 'short', TEND_VAPID_SUBJECT: 'mailto:a@b.example' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of ['TEND_SMTP_POOL_SIZE', 'TEND_TWILIO_AUTH_TOKEN', 'TEND_WEBHOOK_SECRET', 'TEND_VAPID_PUBLIC_KEY']) assert.match(err.message, new RegExp(name));
        return true;
      },
    );
    assert.throws(() => createProvidersFromEnv({ TEND_SMS_URL: 'nope' }), /configuration: TEND_SMS_URL is not valid: Invalid URL/);
  });
});
