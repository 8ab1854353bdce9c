// Sending speed: messages per second rendered (Liquid + MJML) and accepted by a local SMTP server,
// on the Postgres server. N contacts with email consent enter a journey whose one step sends a
// personalised MJML email with a product list; the journey runner records the N messages (timed
// on its own), then the delivery worker renders each and hands it to the SMTP provider, which
// sends through a pool of connections to an SMTP sink in another process. The sink counts the
// messages and their Message-IDs, so the figure is of mail actually accepted, once each.
//   npm run bench -- send [--messages N] [--connections N] [--batch N] [--concurrency N] [--keep]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/index.ts';
import { createTend } from '../src/tend.ts';
import { createSmtpProvider } from '../src/channels/email/provider.ts';
import { EmailConfig } from '../src/channels/email/config.ts';
import { saveMessagingPolicy, MessagingPolicy } from '../src/policy/index.ts';
import { enrol } from '../src/journeys/enrol.ts';
import { fmt, serverUrl } from './lib/stats.ts';
import pg from 'pg';

const TARGET = 2000;

const mjml = `<mjml>
  <mj-head><mj-title>New for you</mj-title><mj-preview>Picked for {{ contact.first_name }}</mj-preview></mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff"><mj-column>
      <mj-text font-size="20px">Hi {{ contact.first_name | default: "there" }},</mj-text>
      <mj-text>Your filters are due soon. These go well with what you bought:</mj-text>
    </mj-column></mj-section>
    <mj-raw>{% for item in event.properties.items %}</mj-raw>
    <mj-section background-color="#ffffff"><mj-column>
      <mj-text><a href="{{ item.url }}">{{ item.name }}</a> — {{ item.price | money: "EUR" }}</mj-text>
    </mj-column></mj-section>
    <mj-raw>{% endfor %}</mj-raw>
    <mj-section background-color="#ffffff"><mj-column>
      <mj-button href="https://shop.example/account">Your account</mj-button>
      <mj-text font-size="11px"><a href="{{ links.unsubscribe }}">Unsubscribe</a> · <a href="{{ links.preferences }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '20000' }, connections: { type: 'string', default: '8' }, batch: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '64' }, keep: { type: 'boolean' },
    },
  });
  const n = Number(values.messages);
  const sink = fork(new URL('./lib/smtp-sink.ts', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => sink.once('message', (m: { port: number }) => resolve(m.port)));
  const stats = () => new Promise<{ received: number; distinct: number; redelivered: number }>((resolve) => {
    sink.once('message', resolve);
    sink.send({ type: 'stats' });
  });

  const schema = `bench_send_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ url: serverUrl(), dataDir: null, schema, poolSize: 12 });
  const email = createSmtpProvider(EmailConfig.parse({
    host: '127.0.0.1', port, secure: false, requireTls: false, tlsRejectUnauthorized: false, from: 'Shop <hello@shop.example>',
    maxConnections: Number(values.connections), maxMessages: 100_000, relay: 'generic', connectionTimeoutMs: 5000, socketTimeoutMs: 30_000,
  }));
  const tend = await createTend({ databaseUrl: serverUrl(), dataDir: '' }, { db, messaging: { providers: { email }, publicUrl: 'https://tend.shop.example' } });
  try {
    const ws = (await tend.workspaces.createWithKeys('bench-send')).workspace.id;
    await saveMessagingPolicy(db, ws, MessagingPolicy.parse({ caps: [], quietHours: null }));
    const now = new Date();
    await db.query(
      `insert into contacts (workspace_id, user_id, email, traits, timezone, first_seen_at, last_seen_at, created_at, updated_at)
       select $1, 'u' || i, 'customer' || i || '@example.com', jsonb_build_object('first_name', 'Customer ' || i), 'Europe/Warsaw', $2, $2, $2, $2
         from generate_series(1, $3::int) as i`,
      [ws, now, n],
    );
    await db.query(`insert into contact_consents (workspace_id, contact_id, channel, topic, granted, updated_at) select $1, id, 'email', '*', true, $2 from contacts where workspace_id = $1`, [ws, now]);
    const created = await tend.journeys.create(ws, {
      name: 'Replenishment reminder', trigger: { type: 'api' },
      steps: [{ id: 'remind', type: 'send', channel: 'email', content: { email: { subject: '{{ contact.first_name }}, your filters are due', mjml } } }],
    });
    if (!created.ok) throw new Error(created.problem.message);
    const published = await tend.journeys.publish(ws, created.value.id);
    if (!published.ok) throw new Error(published.problem.message);
    const compiled = await tend.journeys.version(ws, created.value.id, 1);
    const { rows: contacts } = await db.query<{ id: number }>(`select id from contacts where workspace_id = $1 order by id`, [ws]);
    const items = [1, 2, 3].map((i) => ({ name: `Filter cartridge ${i}-pack`, price: 9.5 * i, url: `https://shop.example/p/filter-${i}` }));
    const { compileDefinition } = await import('../src/journeys/decide.ts');
    for (let i = 0; i < contacts.length; i += 5000) {
      await db.transaction((tx) => enrol(tx, { workspaceId: ws, id: created.value.id, version: 1, compiled: compileDefinition(compiled!) },
        contacts.slice(i, i + 5000).map((c) => ({ contactId: c.id, entryKey: `bench:${c.id}`, trigger: { name: 'API Enrolment', properties: { items }, source: 'api' } })), now));
    }

    const t0 = performance.now();
    await tend.runner.drain();
    const stepSeconds = (performance.now() - t0) / 1000;
    const queued = (await db.query<{ n: number }>(`select count(*)::int as n from messages where workspace_id = $1`, [ws])).rows[0]!.n;
    console.log(`journey step (policy gate + message recorded) for ${fmt(n)} contacts: ${stepSeconds.toFixed(1)} s, ${fmt(queued / stepSeconds)} messages/s recorded`);

    const load = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    let sent = 0;
    for (;;) {
      const k = await tend.delivery.tick();
      if (k === 0) break;
      sent += k;
    }
    const seconds = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = await stats();
    const failed = (await db.query<{ n: number }>(`select count(*)::int as n from messages where workspace_id = $1 and status <> 'sent'`, [ws])).rows[0]!.n;
    const rate = s.distinct / seconds;
    console.log(`sent ${fmt(sent)} messages in ${seconds.toFixed(1)} s: ${fmt(rate)} messages/s rendered (Liquid + MJML) and accepted by SMTP ` +
      `(target ${fmt(TARGET)}/s: ${rate >= TARGET ? 'met' : 'not met'}; ${(rate / TARGET).toFixed(2)} of the target)`);
    console.log(`  the SMTP server accepted ${fmt(s.received)} messages with ${fmt(s.distinct)} distinct Message-IDs (${s.redelivered} redelivered); ${failed} not sent`);
    console.log(`  Tend process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (${(((cpu.user + cpu.system) / 1e3) / Math.max(s.distinct, 1)).toFixed(3)} ms per message); load average at start ${load.toFixed(1)}; ${values.connections} SMTP connections`);
  } finally {
    sink.send({ type: 'stop' });
    await tend.close();
    if (!values.keep) {
      // A plain connection: opening Tend's database would migrate the default schema.
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  }
}
