import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTend } from '../helpers/cli.ts';
import { testDatabases } from '../helpers/db.ts';
import { createTend } from '../../src/tend.ts';
import { loadConfig } from '../../src/config.ts';
import { CliError, type CliContext } from '../../src/cli/context.ts';
import { journeysCommand } from '../../src/cli/commands/journeys.ts';
import { blueprintsCommand } from '../../src/cli/commands/blueprints.ts';

const dir = mkdtempSync(join(tmpdir(), 'tend-journeys-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('tend lists the journeys and blueprints commands, and lists blueprints without a database', async () => {
  const help = await runTend(['help'], { TEND_DATA_DIR: join(dir, 'unused') });
  assert.match(help.stdout, /^ {2}journeys {2,}Create, publish, pause and inspect journeys/m);
  assert.match(help.stdout, /^ {2}blueprints {2,}The care models as ready journeys/m);
  const list = await runTend(['blueprints', 'list'], { TEND_DATA_DIR: join(dir, 'unused') });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^abandoned-cart\s+Abandoned cart — shopping$/m);
  assert.match(list.stdout, /^clean-up\s+Clean-up of inactive contacts — lost$/m);
  const usage = await runTend(['journeys', 'publish'], { TEND_DATA_DIR: join(dir, 'unused') });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /a journey id \(a positive whole number\) is required/);
});

for (const target of testDatabases()) {
  test(`journeys in and out as files, blueprints installed, template problems named by field, line and column (${target.name})`, async () => {
    // The commands run in this process on the test database (the spawned CLI is covered above).
    const tend = await createTend({ databaseUrl: null, dataDir: '' }, { db: await target.open() });
    let out = '';
    const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += chunk.toString()));
    const ctx: CliContext = { config: loadConfig({}), out: stdout, err: new PassThrough() as unknown as NodeJS.WriteStream, openTend: async () => ({ ...tend, close: async () => {} }) };
    const run = async (command: typeof journeysCommand | typeof blueprintsCommand, ...argv: string[]) => {
      out = '';
      const code = await command.run(argv, ctx);
      return { code, out };
    };
    const failure = async (command: typeof journeysCommand, ...argv: string[]) => {
      try {
        await run(command, ...argv);
      } catch (err) {
        if (err instanceof CliError) return err;
        throw err;
      }
      assert.fail(`tend ${argv.join(' ')} succeeded`);
    };
    try {
      const installed = await run(blueprintsCommand, 'install', 'win-back', '--publish', '--json');
      const r = JSON.parse(installed.out) as { journey: { id: number; status: string }; segments: { name: string; created: boolean }[]; version: number };
      assert.equal(r.journey.status, 'active');
      assert.equal(r.version, 1);
      assert.deepEqual(r.segments.map((s) => [s.name, s.created]), [['Customers with no visit in 90 days', true]]);
      assert.match((await run(blueprintsCommand, 'install', 'win-back')).out, /^Segment #\d+ "Customers with no visit in 90 days" exists: reused\nJourney #2 "Win-back \(2\)" created as a draft/);

      // Out as a file and back in as a new draft: the same JSON.
      const file = join(dir, `win-back-${target.name}.journey.json`);
      await run(journeysCommand, 'export', String(r.journey.id), '--out', file);
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name: string; trigger: { segmentId: number } };
      assert.equal(json.name, 'Win-back');
      assert.equal(typeof json.trigger.segmentId, 'number');
      writeFileSync(file, JSON.stringify({ ...json, name: 'Win-back, edited' }));
      assert.match((await run(journeysCommand, 'create', file)).out, /^Journey #3 "Win-back, edited" created as a draft/);

      // A typo in a template: publishing refuses and says exactly where.
      const typo = join(dir, `typo-${target.name}.journey.json`);
      writeFileSync(typo, JSON.stringify({
        name: 'Typo', trigger: { type: 'event', event: 'Signed Up' },
        steps: [
          { id: 'wait', type: 'wait', duration: '1d' },
          { id: 'hello', type: 'send', channel: 'email', content: { email: { subject: 'Hi', mjml: '<mjml><mj-body><mj-section><mj-column>\n<mj-text>\n    {{ contact.frist_name }}</mj-text></mj-column></mj-section></mj-body></mjml>' } } },
        ],
      }));
      await run(journeysCommand, 'create', typo);
      const publish = await failure(journeysCommand, 'publish', '4');
      assert.equal(publish.exitCode, 1);
      assert.equal(publish.message, 'steps.1.content.email.mjml: unknown variable contact.frist_name; did you mean contact.first_name? (line 3, column 8)');
      writeFileSync(typo, JSON.stringify({ name: 'Bad', trigger: { type: 'api' }, steps: [{ id: 'w', type: 'wait', duration: 'soon' }] }));
      assert.match((await failure(journeysCommand, 'update', '4', typo)).message, /^steps\.0\.duration: a duration such as 30min/);

      assert.equal((await run(journeysCommand, 'pause', '1')).out, 'Journey #1 "Win-back" is paused\n');
      assert.match((await failure(journeysCommand, 'resume', '2')).message, /journey 2 is draft; it must be paused/);
      const journeys = await run(journeysCommand, 'list');
      assert.deepEqual(journeys.out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/)), [
        ['1', 'paused', 'v1', 'Win-back'], ['2', 'draft', 'unpublished', 'Win-back (2)'], ['3', 'draft', 'unpublished', 'Win-back, edited'], ['4', 'draft', 'unpublished', 'Typo'],
      ]);
      assert.equal((await run(journeysCommand, 'runs', '1')).out, 'Nobody has entered this journey yet.\n');
      const dryRun = await run(journeysCommand, 'dry-run', '3');
      assert.match(dryRun.out, /^Replayed \S+ to \S+ in [\d,]+ ms: 0 entries by 0 contacts/);
      assert.match(dryRun.out, /^ {2}tier\s+branch\s+0 {2}RFM tier$/m);
    } finally {
      await tend.close();
    }
  });
}
