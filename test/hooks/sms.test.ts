import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../helpers/db.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { twilioSignature } from '../../src/channels/sms/webhooks.ts';
import { eventsOf, sendThrough, startHooksServer, suppressions, type HooksServer } from './helpers.ts';

const AUTH_TOKEN = '12345678901234567890123456789012';
const ACCOUNT = 'AC00000000000000000000000000000001';

/** Posts form fields to the Twilio route as Twilio does: form-encoded, signed over the URL and the fields. */
async function twilio(server: HooksServer, query: string, fields: Record<string, string>, token = AUTH_TOKEN) {
  const url = `${server.url}/hooks/sms/twilio${query}`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, url, fields), 'i-twilio-idempotency-token': 'x' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

let sid = 0;
const inbound = (from: string, body: string) => {
  const id = `SM${String(++sid).padStart(32, '0')}`;
  return {
    ToCountry: 'PL', SmsMessageSid: id, NumMedia: '0', SmsSid: id, SmsStatus: 'received', Body: body, FromCountry: 'PL', To: '+48500999000',
    NumSegments: '1', MessageSid: id, AccountSid: ACCOUNT, From: from, ApiVersion: '2010-04-01',
  };
};

for (const target of testDatabases()) {
  describe(`Twilio webhooks over HTTP (${target.name})`, () => {
    let server: HooksServer;
    let ws: Awaited<ReturnType<HooksServer['workspace']>>;
    const consent = async (contactId: number) =>
      (await server.tend.db.query<{ granted: boolean; source: string }>(`select granted, source from contact_consents where workspace_id = $1 and contact_id = $2 and channel = 'sms' and topic = '*'`, [ws.id, contactId])).rows[0];

    before(async () => {
      server = await startHooksServer(target, { clock: new VirtualClock('2026-03-02T12:00:00Z'), config: { twilioAuthToken: AUTH_TOKEN } });
      ws = await server.workspace();
      const r = await server.tend.ingest.ingest(ws.id, [
        { type: 'identify', userId: 'ann', traits: { phone: '+48500100200', consent: { sms: true } } },
        // The same phone in a second profile (a shared family number), stored without the +.
        { type: 'identify', userId: 'ann-husband', traits: { phone: '48500100200', consent: { sms: true } } },
        { type: 'identify', userId: 'bob', traits: { phone: '+48500100300', consent: { sms: true } } },
      ]);
      assert.deepEqual(r.rejected, []);
    });
    after(() => server?.close());

    it('a status callback names the message by ?k= and records its delivery; a dead number is a hard bounce', async () => {
      const [ann, , bob] = await sendThrough(server.tend, ws.id, 'sms', ['ann', 'ann-husband', 'bob']);
      const delivered = await twilio(server, `?k=${ann!.idempotency_key}`, { MessageSid: 'SMaaaa', MessageStatus: 'delivered', To: ann!.address, From: '+48500999000', AccountSid: ACCOUNT });
      assert.equal(delivered.status, 200, delivered.text);
      assert.match(delivered.type, /^text\/xml/);
      assert.equal(delivered.text, '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
      assert.equal((await eventsOf(server.tend, ws.id, ann!.contact_id, ['Message Delivered'])).length, 1);
      const dead = await twilio(server, `?k=${bob!.idempotency_key}`, { MessageSid: 'SMbbbb', MessageStatus: 'undelivered', ErrorCode: '30006', To: bob!.address, AccountSid: ACCOUNT });
      assert.equal(dead.status, 200);
      assert.equal((await suppressions(server.tend, ws.id))[`sms:${bob!.address}`], 'hard_bounce');
    });

    it('STOP withdraws SMS consent from everyone with the number and suppresses it; a redelivery changes nothing; START restores it', async () => {
      const contacts = await server.tend.db.query<{ id: number; user_id: string }>(`select id, user_id from contacts where workspace_id = $1 order by user_id`, [ws.id]);
      const id = (u: string) => Number(contacts.rows.find((c) => c.user_id === u)!.id);
      const stop = inbound('+48500100200', 'Stop');
      const r = await twilio(server, `?workspace=${ws.id}`, stop);
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /<Response><\/Response>/, 'empty TwiML: Twilio sends its own opt-out confirmation');
      for (const who of ['ann', 'ann-husband']) assert.deepEqual({ ...(await consent(id(who))) }, { granted: false, source: 'sms-stop' }, who);
      assert.deepEqual({ ...(await consent(id('bob'))) }, { granted: true, source: 'identify' });
      const s = await suppressions(server.tend, ws.id);
      assert.equal(s['sms:+48500100200'], 'unsubscribed');
      assert.equal(s['sms:48500100200'], 'unsubscribed');
      assert.equal((await eventsOf(server.tend, ws.id, id('ann'), ['Unsubscribed'])).length, 1);
      assert.equal((await twilio(server, `?workspace=${ws.id}`, stop)).status, 200);
      assert.equal((await eventsOf(server.tend, ws.id, id('ann'), ['Unsubscribed'])).length, 1, 'a redelivered STOP is stored once');

      // No SMS reaches Ann now.
      await server.tend.ingest.ingest(ws.id, [{ type: 'track', userId: 'ann', event: 'Send sms' }]);
      await server.tend.runner.drain();
      const decided = await server.tend.db.query<{ reason: string }>(`select reason from policy_decisions where workspace_id = $1 and contact_id = $2 order by id desc limit 1`, [ws.id, id('ann')]);
      assert.equal(decided.rows[0]?.reason, 'unreachable: no address with consent on sms');

      const start = await twilio(server, `?workspace=${ws.id}`, inbound('+48500100200', ' start! '));
      assert.equal(start.status, 200);
      assert.deepEqual({ ...(await consent(id('ann'))) }, { granted: true, source: 'sms-start' });
      const after = await suppressions(server.tend, ws.id);
      assert.equal(after['sms:+48500100200'], undefined);
      assert.equal(after['sms:+48500100300'], 'hard_bounce', 'START lifts an unsubscribe, never a bounce');
      // Other texts change nothing.
      const hello = await twilio(server, `?workspace=${ws.id}`, inbound('+48500100200', 'Is my order on its way?'));
      assert.equal(hello.status, 200);
      assert.equal((await consent(id('ann')))?.granted, true);
    });

    it('STOP from a number Tend does not know still suppresses it', async () => {
      assert.equal((await twilio(server, `?workspace=${ws.id}`, inbound('+48500100999', 'UNSUBSCRIBE'))).status, 200);
      assert.equal((await suppressions(server.tend, ws.id))['sms:+48500100999'], 'unsubscribed');
    });

    it('a wrong signature, a signature over another URL, and bad input are refused', async () => {
      const fields = inbound('+48500100300', 'STOP');
      const wrongKey = await twilio(server, `?workspace=${ws.id}`, fields, 'another-auth-token-0000000000000');
      assert.equal(wrongKey.status, 401);
      // Signed for one workspace, replayed against another.
      const url = `${server.url}/hooks/sms/twilio?workspace=${ws.id}`;
      const replay = await fetch(`${server.url}/hooks/sms/twilio?workspace=default`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url, fields) }, body: new URLSearchParams(fields).toString(),
      });
      assert.equal(replay.status, 401);
      assert.equal((await suppressions(server.tend, ws.id))['sms:+48500100300'], 'hard_bounce', 'unchanged');
      const noSid = await twilio(server, `?workspace=${ws.id}`, { From: '+48500100300', Body: 'STOP' });
      assert.equal(noSid.status, 400);
      assert.equal((JSON.parse(noSid.text) as { field: string }).field, 'MessageSid');
      const json = await fetch(`${server.url}/hooks/sms/twilio`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(json.status, 400);
      const unknownWorkspace = await twilio(server, '?workspace=nope', inbound('+48500100300', 'STOP'));
      assert.equal(unknownWorkspace.status, 400);
    });
  });
}
