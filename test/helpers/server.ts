import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { TestDatabase } from './db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { buildServer } from '../../src/server/app.ts';
import { extraRoutes } from '../../src/server/plugins.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { MessagingOptions } from '../../src/tend.ts';

export type TestServer = {
  url: string;
  tend: Tend;
  app: FastifyInstance;
  /** Sends a batch to the tracking API and fails the test unless every message was accepted. */
  send(writeKey: string, batch: unknown[]): Promise<void>;
  /** Calls the admin API with a bearer token; the status and the JSON answer. */
  admin(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A fresh workspace of this server with its keys. */
  workspace(settings?: Record<string, unknown>): Promise<{ id: string; writeKey: string; adminToken: string }>;
  close(): Promise<void>;
};

/** Starts a real Tend server on 127.0.0.1 and a free port, on the given database. */
export async function startTestServer(target: TestDatabase, options: { clock?: Clock; messaging?: MessagingOptions } = {}): Promise<TestServer> {
  const db = await target.open();
  const messaging: MessagingOptions = { ...options.messaging };
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db, clock: options.clock, messaging });
  const app = await buildServer(tend, { logger: false }, extraRoutes);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // Links in messages point at this server.
  messaging.publicUrl = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    tend,
    app,
    async send(writeKey, batch) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
        method: 'POST',
        headers: { authorization: basic(writeKey), 'content-type': 'application/json' },
        body: JSON.stringify({ batch }),
      });
      const body = (await res.json()) as { rejected?: unknown[] };
      assert.deepEqual(body.rejected, [], `batch refused in part: ${JSON.stringify(body)}`);
    },
    async admin(token, method, path, body) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async workspace(settings) {
      const r = await tend.workspaces.createWithKeys('test', settings);
      return { id: r.workspace.id, writeKey: r.writeKey, adminToken: r.adminToken };
    },
    async close() {
      await app.close();
      await tend.close();
    },
  };
}

/** Basic auth with the write key as user name, as Segment clients send it. */
export const basic = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
