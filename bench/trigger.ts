// Trigger latency: at a steady rate of "Product Added" and "Order Completed" events sent to a
// running `tend serve` (its own process, with its workers, on the Postgres server), the time from
// an event's arrival to its journey step completing. The journey is the abandoned cart: "Product
// Added" enrols the contact and its first step parks it waiting for "Order Completed" of the same
// cart (timeout 1 hour); "Order Completed" resumes that run, which then exits. Both times come from
// the server's clock: the event's received_at, and the run's step time (the park time is its due
// time minus the 1-hour timeout; the exit is its finished_at).
//   npm run bench -- trigger [--rate N] [--seconds N] [--contacts N] [--buy 0.3]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startServerProcess } from './lib/server-process.ts';
import { fmt, quantile, serverUrl } from './lib/stats.ts';

const journey = {
  name: 'Abandoned cart',
  trigger: { type: 'event', event: 'Product Added' },
  settings: { reentry: 'always', goal: { event: 'Order Completed', within: '7d', exit: false } },
  steps: [
    { id: 'wait', type: 'wait_for_event', event: 'Order Completed', matchTrigger: ['cart_id'], timeout: '1h', next: 'bought', timeoutNext: 'remind' },
    { id: 'remind', type: 'send', channel: 'email', content: { email: { subject: 'Your cart', html: '<p>{{ contact.first_name }}, your cart is waiting.</p>' } } },
    { id: 'bought', type: 'exit' },
  ],
};

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '60' }, contacts: { type: 'string', default: '20000' }, buy: { type: 'string', default: '0.3' } } });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const contacts = Number(values.contacts);
  const url = serverUrl();
  const schema = `bench_trigger_${randomBytes(4).toString('hex')}`;
  const writeKey = `wk_bench_${randomBytes(8).toString('hex')}`;
  const adminToken = `tat_bench_${randomBytes(12).toString('hex')}`;
  const server = await startServerProcess({ DATABASE_URL: url, TEND_DATABASE_SCHEMA: schema, TEND_WRITE_KEY: writeKey, TEND_ADMIN_TOKEN: adminToken, TEND_DATABASE_POOL_SIZE: '12' });
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
  try {
    const api = async (path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: number }>;
    };
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const batch = (messages: unknown[]) =>
      fetch(`${server.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ batch: messages }) }).then(async (r) => {
        if (!r.ok) throw new Error(`batch: ${r.status} ${await r.text()}`);
      });
    for (let i = 0; i < contacts; i += 1000) {
      await batch(Array.from({ length: Math.min(1000, contacts - i) }, (_, k) => ({ type: 'identify', userId: `c${i + k}`, traits: { email: `c${i + k}@example.com`, first_name: `C${i + k}`, consent: { email: true } } })));
    }
    const { id } = await api('/api/journeys', journey);
    await api(`/api/journeys/${id}/publish`, {});

    // Every 100 ms, rate/10 events: new carts, and purchases of carts added a few seconds before.
    const perTick = Math.max(1, Math.round(rate / 10));
    const open: { user: string; cart: string }[] = [];
    let sent = 0;
    let cartSeq = 0;
    const started = performance.now();
    const load = loadavg()[0]!;
    const inFlight: Promise<void>[] = [];
    for (let tick = 0; tick < seconds * 10; tick++) {
      const messages: unknown[] = [];
      for (let k = 0; k < perTick; k++) {
        const buy = open.length > perTick * 20 && Math.random() < Number(values.buy);
        if (buy) {
          const { user, cart } = open.splice(Math.floor(Math.random() * perTick * 10), 1)[0]!;
          messages.push({ type: 'track', userId: user, event: 'Order Completed', properties: { order_id: `o-${cart}`, cart_id: cart, total: 30, products: [{ sku: 'JUG-1', price: 30, quantity: 1 }] } });
        } else {
          const user = `c${Math.floor(Math.random() * contacts)}`;
          const cart = `cart-${cartSeq++}`;
          open.push({ user, cart });
          messages.push({ type: 'track', userId: user, event: 'Product Added', properties: { cart_id: cart, sku: 'JUG-1', name: 'Filter jug', price: 30, quantity: 1 } });
        }
      }
      sent += messages.length;
      inFlight.push(batch(messages));
      const due = started + (tick + 1) * 100;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inFlight);
    const sendSeconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 5000));

    const { rows } = await pool.query<{ name: string; ms: number }>(
      `select e.name, extract(epoch from (r.due_at - interval '1 hour') - e.received_at) * 1000 as ms
         from events e join journey_runs r on r.entry_key = 'event:' || e.id
        where e.name = 'Product Added' and r.state = 'waiting'
       union all
       select e.name, extract(epoch from r.finished_at - e.received_at) * 1000 as ms
         from events e
         join journey_runs r on r.workspace_id = e.workspace_id and r.contact_id = e.contact_id and r.context->'trigger'->'properties'->>'cart_id' = e.properties->>'cart_id'
        where e.name = 'Order Completed' and r.state = 'exited' and r.step_id = 'bought'`,
    );
    const counts = await pool.query<{ added: number; bought: number; waiting: number; exited: number; active: number }>(
      `select count(*) filter (where name = 'Product Added')::int as added, count(*) filter (where name = 'Order Completed')::int as bought,
              (select count(*)::int from journey_runs where state = 'waiting') as waiting, (select count(*)::int from journey_runs where state = 'exited') as exited,
              (select count(*)::int from journey_runs where state = 'active') as active
         from events`,
    );
    const report = (name: string) => {
      const ms = rows.filter((r) => r.name === name).map((r) => Number(r.ms));
      const p99 = quantile(ms, 0.99);
      console.log(`${name}: ${fmt(ms.length)} measured; event → journey step completed p50 ${fmt(quantile(ms, 0.5), 1)} ms, p99 ${fmt(p99, 1)} ms, max ${fmt(Math.max(...ms), 1)} ms (target p99 < 1,000 ms: ${p99 < 1000 ? 'met' : 'not met'})`);
    };
    console.log(`sent ${fmt(sent)} events in ${sendSeconds.toFixed(1)} s (${fmt(sent / sendSeconds)} events/s; load average at start ${load.toFixed(1)})`);
    const c = counts.rows[0]!;
    console.log(`  stored: ${fmt(c.added)} Product Added, ${fmt(c.bought)} Order Completed; runs waiting ${fmt(c.waiting)}, exited after buying ${fmt(c.exited)}, not yet stepped ${fmt(c.active)}`);
    report('Product Added');
    report('Order Completed');
  } finally {
    await server.stop();
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  }
}
