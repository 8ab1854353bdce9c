import type { FastifyInstance } from 'fastify';
import type { TestDatabase } from './db.ts';
import { createTend, type Tend } from '../../src/tend.ts';
import { buildServer } from '../../src/server/app.ts';
import { extraRoutes } from '../../src/server/plugins.ts';
import type { Clock } from '../../src/core/clock.ts';

export type TestServer = {
  url: string;
  tend: Tend;
  app: FastifyInstance;
  /** A fresh workspace of this server with its keys. */
  workspace(settings?: Record<string, unknown>): Promise<{ id: string; writeKey: string; adminToken: string }>;
  close(): Promise<void>;
};

/** Starts a real Tend server on 127.0.0.1 and a free port, on the given database. */
export async function startTestServer(target: TestDatabase, options: { clock?: Clock } = {}): Promise<TestServer> {
  const db = await target.open();
  const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db, clock: options.clock });
  const app = await buildServer(tend, { logger: false }, extraRoutes);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tend,
    app,
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
