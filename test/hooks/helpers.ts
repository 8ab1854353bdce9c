import assert from 'node:assert/strict';
import type { TestDatabase } from '../helpers/db.ts';
import { basic } from '../helpers/server.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { buildServer } from '../../src/server/app.ts';
import { extraRoutes } from '../../src/server/plugins.ts';
import { createHookRoutes, hookRoutes, type HooksConfig } from '../../src/server/hooks.ts';
import { hooksToken } from '../../src/tracking/reports.ts';
import { MessagingPolicy, saveMessagingPolicy } from '../../src/policy/index.ts';
import type { Clock } from '../../src/core/clock.ts';

export { basic };

export type HooksServer = {
  url: string;
  tend: Tend;
  /** A fresh workspace with its keys and hooks token; no caps or quiet hours (the tests are about reports). */
  workspace(): Promise<{ id: string; writeKey: string; adminToken: string; token: string }>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<{ status: number; text: string; json: Record<string, unknown> }>;
  close(): Promise<void>;
};

/**
 * A real Tend server on 127.0.0.1 like test/helpers/server.ts's, with the webhook routes given
 * their settings here instead of from the environment (signing keys, SNS topics) and SNS URLs
 * answered by `fetchSns`: nothing leaves the machine.
 */
export async function startHooksServer(
  target: TestDatabase,
  options: { clock?: Clock; config?: Partial<HooksConfig>; fetchSns?: (url: string) => Promise<string>; log?: (line: string) => void } = {},
): Promise<HooksServer> {
  const db = await target.open();
  const messaging: { publicUrl?: string } = {};
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db, clock: options.clock, messaging });
  const hooks = createHookRoutes({ config: { sesTopicArns: [], ...options.config }, fetchSns: options.fetchSns ?? (() => Promise.reject(new Error('no fetching in tests'))), log: options.log ?? (() => {}) });
  const app = await buildServer(tend, { logger: false }, [...extraRoutes.filter((p) => p !== hookRoutes), hooks]);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  messaging.publicUrl = url;
  return {
    url,
    tend,
    async workspace() {
      const r = await tend.workspaces.createWithKeys('hooks');
      await saveMessagingPolicy(tend.db, r.workspace.id, MessagingPolicy.parse({ caps: [], quietHours: null }));
      return { id: r.workspace.id, writeKey: r.writeKey, adminToken: r.adminToken, token: await hooksToken(tend.db, r.workspace.id) };
    },
    async post(path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = {};
      }
      assert.notEqual(res.status, 500, `${path} answered 500: ${text}`);
      return { status: res.status, text, json };
    },
    async close() {
      await app.close();
      await tend.close();
    },
  };
}

let journeys = 0;

export type SentMessage = { id: number; idempotency_key: string; contact_id: number; address: string; provider_message_id: string | null; user_id: string };

/**
 * Sends one message on `channel` to each of the given people through a published journey (to the
 * outbox, the default provider), as Tend would in production, and returns the messages.
 */
export async function sendThrough(tend: Tend, ws: string, channel: 'email' | 'sms' | 'push' | 'print', userIds: readonly string[], event = `Send ${channel}`): Promise<SentMessage[]> {
  const content = {
    email: { subject: 'Hello {{ contact.first_name }}', html: '<p>Hello</p>' },
    sms: { body: 'Hello from the shop' },
    push: { title: 'Hello', body: 'Your cart is waiting', url: 'https://shop.example/cart' },
    print: { format: 'postcard', headline: 'Hello', body: 'Thank you' },
  }[channel];
  const created = await tend.journeys.create(ws, {
    name: `${event} ${++journeys}`, trigger: { type: 'event', event }, settings: { reentry: 'always' },
    steps: [{ id: 'send', type: 'send', channel, content: { [channel]: content } }],
  });
  assert.ok(created.ok, JSON.stringify(!created.ok && created.problem));
  const published = await tend.journeys.publish(ws, created.value.id);
  assert.ok(published.ok, JSON.stringify(!published.ok && published.problem));
  const r = await tend.ingest.ingest(ws, userIds.map((u) => ({ type: 'track', userId: u, event })));
  assert.deepEqual(r.rejected, []);
  await tend.runner.drain();
  await tend.delivery.drain();
  const { rows } = await tend.db.query<SentMessage>(
    `select m.id, m.idempotency_key, m.contact_id, m.address, m.provider_message_id, c.user_id
       from messages m join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id
      where m.workspace_id = $1 and m.journey_id = $2 and m.status = 'sent' order by c.user_id`,
    [ws, created.value.id],
  );
  assert.equal(rows.length, userIds.length, `every message was sent: ${JSON.stringify(rows)}`);
  return rows.map((m) => ({ ...m, id: Number(m.id), contact_id: Number(m.contact_id) }));
}

export async function suppressions(tend: Tend, ws: string): Promise<Record<string, string>> {
  const { rows } = await tend.db.query<{ channel: string; address: string; reason: string }>(`select channel, address, reason from suppressions where workspace_id = $1`, [ws]);
  return Object.fromEntries(rows.map((r) => [`${r.channel}:${r.address}`, r.reason]));
}

/** The contact's events of the given names, oldest first. */
export async function eventsOf(tend: Tend, ws: string, contactId: number, names: readonly string[]): Promise<{ name: string; properties: Record<string, unknown> }[]> {
  const { rows } = await tend.db.query<{ name: string; properties: Record<string, unknown> }>(
    `select name, properties from events where workspace_id = $1 and contact_id = $2 and name = any($3::text[]) order by id`,
    [ws, contactId, names],
  );
  return rows;
}
