import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-cli-'));
  dirs.push(d);
  return d;
};
const tend = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/tend.js', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 120_000 });

describe('tend command line', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('lists its commands and refuses unknown ones and bad options with exit code 2', () => {
    const help = tend(['help']);
    assert.equal(help.status, 0);
    for (const name of ['serve', 'demo', 'segments', 'keys']) assert.match(help.stdout, new RegExp(`\\b${name}\\b`));
    const unknown = tend(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const bad = tend(['demo', 'generate', '--customers', 'lots'], { TEND_DATA_DIR: tempDir() });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--customers must be a whole number/);
    const badConfig = tend(['segments', 'list'], { PORT: 'eighty' });
    assert.equal(badConfig.status, 2);
    assert.match(badConfig.stderr, /PORT is not valid/);
  });

  it('generates a demo shop and works with segments on the embedded database', () => {
    const env = { TEND_DATA_DIR: tempDir() };
    const demo = tend(['demo', 'generate', '--customers', '60', '--months', '3', '--seed', '7'], env);
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /Demo shop: \d+ products, [\d,]+ events/);
    const created = tend(['segments', 'create', '--name', 'Buyers', '--rule', '{"type":"orders","metric":"count","op":"gte","value":1}', '--json'], env);
    assert.equal(created.status, 0, created.stderr);
    const segment = JSON.parse(created.stdout) as { id: number; memberCount: number };
    assert.ok(segment.memberCount > 0);
    const invalid = tend(['segments', 'create', '--name', 'Bad', '--rule', '{"type":"event","within":"ninety days"}'], env);
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /rule\.within/);
    const count = tend(['segments', 'count', String(segment.id)], env);
    assert.equal(count.stdout.trim(), String(segment.memberCount));
  });

  it('while a server holds the embedded database, other commands say so', async () => {
    const dir = tempDir();
    const server = spawn(process.execPath, ['bin/tend.js', 'serve', '--port', '0'], { cwd: root, env: { ...process.env, DATABASE_URL: '', TEND_DATA_DIR: dir, LOG_LEVEL: 'silent' } });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        server.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const m = /Tend is running at (\S+)/.exec(output);
          if (m) resolve(m[1]!);
        });
        server.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
      });
      assert.match(output, /write key \(tracking API, Basic-auth user name\): wk_/);
      assert.match(output, /admin token .*:\s+tat_/);
      const blocked = tend(['segments', 'list'], { TEND_DATA_DIR: dir });
      assert.equal(blocked.status, 3);
      assert.match(blocked.stderr, /in use by the Tend server/);
      assert.ok(blocked.stderr.includes(url));
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    // Once the server has stopped, the database is free again and keeps its workspace.
    const free = tend(['segments', 'list'], { TEND_DATA_DIR: dir });
    assert.equal(free.status, 0, free.stderr);
  });
});
