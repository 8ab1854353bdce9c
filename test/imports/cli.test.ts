// `tend import` and `tend export` as a user runs them: a real process on the embedded database in a
// temporary folder, checked by its output and exit code.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTend } from '../helpers/cli.ts';

const root = new URL('../../', import.meta.url).pathname;
const ADMIN_TOKEN = 'tat_cli_test_token_0123456789';

const tend = runTend;

describe('tend import and tend export (embedded database)', () => {
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tend-cli-import-'));
    env = { TEND_DATA_DIR: join(dir, 'data'), TEND_ADMIN_TOKEN: '' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a good file and exits 0', async () => {
    const r = await tend(['import', 'products', file('products.csv', 'sku,name,price\nS1,Beans,12.5\nS2,Mug,9\n')], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Imported 2 of 2 rows \(products\) from products\.csv in [\d.]+ s \([\d,]+ rows\/s\) \(import job #1\)/);
    assert.match(r.stderr, /Importing products\.csv \(bytes read\): 38\/38 \(100%\)/);
  });

  it('prints the first 100 rejected rows, says how many more and where, and exits 1', async () => {
    const lines = ['order_id,user_id,ordered_at,total', 'o0,u0,2026-01-01,5'];
    for (let i = 1; i <= 150; i++) lines.push(`o${i},u${i},2026-01-01,minus ${i}`);
    const errors = join(dir, 'errors.csv');
    const r = await tend(['import', 'orders', file('orders.csv', lines.join('\n')), '--errors', errors], env);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout.split('\n');
    assert.match(out[0]!, /Imported 1 of 151 rows \(orders\) .*; 150 rejected \(import job #2\)/);
    assert.equal(out[1], 'Rejected rows:');
    assert.equal(out[2], '  line 3, total: "minus 1" is not a number (write amounts like 19.99, with a dot and no currency sign)');
    assert.equal(out.filter((l) => l.startsWith('  line ')).length, 100);
    assert.equal(out[102], `  … and 50 more: every one is in ${errors}`);
    const written = readFileSync(errors, 'utf8').trim().split('\n');
    assert.equal(written.length, 151);
    assert.equal(written[150], '152,total,"""minus 150"" is not a number (write amounts like 19.99, with a dot and no currency sign)"');
  });

  it('imports nothing with --all-or-nothing when a row is bad, and prints the job as JSON', async () => {
    const r = await tend(['import', 'orders', file('more.csv', 'order_id,user_id,ordered_at,total\nn1,u1,2026-01-01,5\nn2,u2,2026-02-30,5\n'), '--all-or-nothing', '--json'], env);
    assert.equal(r.code, 1, r.stderr);
    const job = JSON.parse(r.stdout) as { status: string; mode: string; rowsAccepted: number; errors: { line: number; column: string }[] };
    assert.deepEqual([job.status, job.mode, job.rowsAccepted, job.errors.map((e) => [e.line, e.column])], ['failed', 'all', 0, [[3, 'ordered_at']]]);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await tend(['import', 'coupons', 'x.csv'], env)).code, 2);
    assert.equal((await tend(['import', 'orders'], env)).code, 2);
    const missing = await tend(['import', 'orders', join(dir, 'nope.csv')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.csv/);
    assert.equal((await tend(['export', 'orders', '--format', 'xml'], env)).code, 2);
  });

  it('exports to standard output and to a file', async () => {
    const r = await tend(['export', 'orders'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'order_id,user_id,ordered_at,total,currency,email,status,coupon,discount\no0,u0,2026-01-01T00:00:00.000Z,5,,,completed,,\n');
    const out = join(dir, 'contacts.jsonl');
    const j = await tend(['export', 'contacts', '--format', 'jsonl', '--out', out], env);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(JSON.parse(readFileSync(out, 'utf8').trim()).user_id, 'u0');
  });

  describe('while a server holds the embedded database', () => {
    let server: ChildProcess;
    before(async () => {
      server = spawn(process.execPath, ['bin/tend.js', 'serve', '--port', '0'], {
        cwd: root,
        env: { ...process.env, ...env, DATABASE_URL: '', LOG_LEVEL: 'silent', HOST: '127.0.0.1', TEND_ADMIN_TOKEN: ADMIN_TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        server.stderr!.on('data', (d: Buffer) => {
          output += d.toString();
          if (output.includes('Tend is running at')) resolve();
        });
        server.once('exit', (code) => reject(new Error(`tend serve exited with ${code}: ${output}`)));
      });
    });
    after(async () => {
      server.kill('SIGTERM');
      await once(server, 'exit');
    });

    it('refuses without an admin token, naming the way out', async () => {
      const r = await tend(['import', 'products', join(dir, 'products.csv')], env);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /in use by the Tend server[\s\S]*set TEND_ADMIN_TOKEN/);
    });

    it('uploads the file to the server with TEND_ADMIN_TOKEN, and exports through it', async () => {
      const r = await tend(['import', 'products', file('upload.csv', 'sku,name\nS3,Filter\nS4,\n')], { ...env, TEND_ADMIN_TOKEN: ADMIN_TOKEN });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /Imported 1 of 2 rows \(products\) from upload\.csv .*; 1 rejected/);
      assert.match(r.stdout, /line 3, name: is required/);
      const e = await tend(['export', 'orders'], { ...env, TEND_ADMIN_TOKEN: ADMIN_TOKEN });
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, /^order_id,user_id,ordered_at,total/);
    });
  });
});
