import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideWith, MessagingPolicy, type GateFacts, type GateInput } from '../../src/policy/index.ts';

const now = new Date('2026-03-02T12:00:00Z');
const policy = MessagingPolicy.parse({ suppressStages: ['lapsed'] });
const input: GateInput = {
  workspaceId: 'w', contactId: 1, channel: 'email', address: 'a@example.com', topic: 'offers', transactional: false, timezone: 'Europe/Warsaw',
  lifecycleStage: 'active', journeyId: 7, sendRatePerMinute: 2, onCapped: 'defer',
};
const facts: GateFacts = { suppressed: null, channelConsent: true, topicConsent: null, recent: [], journeyRecent: [] };
const ago = (ms: number) => new Date(now.getTime() - ms);

test('the gate: consent per channel and topic, suppressed stages, transactional messages, the journey send rate', () => {
  assert.deepEqual(decideWith(policy, input, facts, now), { decision: 'send' });
  assert.equal(decideWith(policy, input, { ...facts, channelConsent: null }, now).decision, 'suppressed', 'no opt-in, no marketing');
  const topic = decideWith(policy, input, { ...facts, topicConsent: false }, now);
  assert.deepEqual(topic, { decision: 'suppressed', reason: 'no consent: opted out of email topic offers' });
  assert.equal(decideWith(policy, { ...input, lifecycleStage: 'lapsed' }, facts, now).decision, 'suppressed');
  // Transactional messages skip consent and caps, never a suppressed address.
  assert.deepEqual(decideWith(policy, { ...input, transactional: true }, { ...facts, channelConsent: false, recent: [ago(1000), ago(2000), ago(3000)] }, now), { decision: 'send' });
  assert.equal(decideWith(policy, { ...input, transactional: true }, { ...facts, suppressed: 'hard_bounce' }, now).decision, 'suppressed');
  // Two messages a minute: the third waits until the older of the two is a minute old.
  const rate = decideWith(policy, input, { ...facts, journeyRecent: [ago(50_000), ago(10_000)] }, now);
  assert.equal(rate.decision, 'deferred');
  assert.equal(rate.decision === 'deferred' && rate.until.toISOString(), '2026-03-02T12:00:10.000Z');
  assert.match(rate.decision === 'deferred' ? rate.reason : '', /journey send rate 2 per minute/);
  assert.deepEqual(decideWith(policy, input, { ...facts, journeyRecent: [ago(70_000), ago(10_000)] }, now), { decision: 'send' }, 'older than a minute no longer counts');
  // The default caps: one email per 16 hours; over it, defer to when the window has room, or drop.
  const capped = decideWith(policy, input, { ...facts, recent: [ago(3_600_000)] }, now);
  assert.equal(capped.decision === 'deferred' && capped.until.toISOString(), '2026-03-03T03:00:00.000Z');
  assert.equal(decideWith(policy, { ...input, onCapped: 'drop' }, { ...facts, recent: [ago(3_600_000)] }, now).decision, 'dropped');
});
