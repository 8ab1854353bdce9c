import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTend } from '../helpers/cli.ts';
import { openDatabase } from '../../src/db/index.ts';
import { createTend } from '../../src/tend.ts';
import { MessagingPolicy, saveMessagingPolicy } from '../../src/policy/index.ts';

const root = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-worker-'));
  dirs.push(d);
  return d;
};

/** Starts `tend <args>` and resolves once its standard error matches `ready`. */
function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['bin/tend.js', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', CI: '1', LOG_LEVEL: 'silent', ...env } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tend ${args.join(' ')} did not start: ${output}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exited });
      }
    });
    void exited.then((code) => reject(new Error(`tend ${args.join(' ')} exited with ${code}: ${output}`)));
  });
}

describe('tend worker and TEND_WORKERS', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses the embedded database, and bad settings, with exit code 2', async () => {
    const [embedded, workers, lease, url] = await Promise.all([
      runTend(['worker'], { TEND_DATA_DIR: tempDir() }),
      runTend(['serve'], { TEND_DATA_DIR: tempDir(), TEND_WORKERS: 'maybe' }),
      runTend(['segments', 'list'], { TEND_DATA_DIR: tempDir(), TEND_DELIVERY_LEASE_SECONDS: 'soon' }),
      runTend(['segments', 'list'], { TEND_DATA_DIR: tempDir(), TEND_PUBLIC_URL: 'https://tend.shop.example/?x=1' }),
    ]);
    assert.equal(embedded.code, 2);
    assert.match(embedded.stderr, /tend worker needs a Postgres server \(DATABASE_URL\)/);
    assert.equal(workers.code, 2);
    assert.match(workers.stderr, /TEND_WORKERS is not valid/);
    assert.equal(lease.code, 2);
    assert.match(lease.stderr, /TEND_DELIVERY_LEASE_SECONDS is not valid/);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /TEND_PUBLIC_URL is not valid: the address only/);
  });

  it('tend serve with TEND_WORKERS=0 runs no background work and says so', async () => {
    const server = await start(['serve', '--port', '0'], { TEND_DATA_DIR: tempDir(), TEND_WORKERS: '0' }, /Tend is running at \S+[^]*\n.*\n/);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    assert.match(server.output(), /TEND_WORKERS=0: no background work here; run `tend worker` processes/);
    assert.doesNotMatch(server.output(), /Background work .* runs in this process/);
  });

  it('runs journeys and delivery on the Postgres server without HTTP, and stops cleanly on SIGTERM', { skip: !process.env.TEST_DATABASE_URL && 'needs TEST_DATABASE_URL' }, async () => {
    const url = process.env.TEST_DATABASE_URL!;
    const schema = `tend_test_${randomBytes(5).toString('hex')}`;
    const db = await openDatabase({ url, dataDir: null, poolSize: 4, schema });
    const tend = await createTend({ databaseUrl: url, dataDir: '' }, { db });
    try {
      const worker = await start(['worker'], { DATABASE_URL: url, TEND_DATABASE_SCHEMA: schema, TEND_DELIVERY_LEASE_SECONDS: '30' }, /Tend worker running/);
      assert.match(worker.output(), /email: outbox, sms: outbox, push: outbox, print: outbox, webhook: outbox/);
      // This process only records: the journey runs and the message is sent by the worker.
      const ws = (await tend.workspaces.createWithKeys('worker')).workspace.id;
      await saveMessagingPolicy(tend.db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
      const created = await tend.journeys.create(ws, {
        name: 'Welcome', trigger: { type: 'event', event: 'Signed Up' },
        steps: [{ id: 'hello', type: 'send', channel: 'email', content: { email: { subject: 'Welcome, {{ contact.first_name }}', html: '<p>Hello</p>' } } }],
      });
      assert.ok(created.ok);
      assert.ok((await tend.journeys.publish(ws, created.value.id)).ok);
      await tend.ingest.ingest(ws, [
        { type: 'identify', userId: 'ann', traits: { email: 'ann@example.com', first_name: 'Ann', consent: { email: true } } },
        { type: 'track', userId: 'ann', event: 'Signed Up' },
      ]);
      let subject: unknown;
      for (let i = 0; i < 200 && subject === undefined; i++) {
        const { rows } = await tend.db.query<{ payload: { subject: string } }>(`select payload from outbox where workspace_id = $1`, [ws]);
        subject = rows[0]?.payload.subject;
        if (subject === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(subject, 'Welcome, Ann', `the worker sent the message: ${worker.output()}`);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
      assert.match(worker.output(), /SIGTERM: finishing the work in progress…\nTend worker stopped\.\n$/);
    } finally {
      await tend.db.query(`drop schema if exists ${schema} cascade`);
      await tend.close();
    }
  });
});
