// The hand-written check of common messages must never disagree with the schema: whatever it
// accepts, the schema accepts with the same result; everything else is left to the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackingMessage, quickParse } from '../../src/events/schema.ts';
import { commerceEvents, quickProductEvent } from '../../src/catalog/commerce-schema.ts';
import { makeMessages } from '../../bench/ingest.ts';

const values: Record<string, unknown[]> = {
  type: ['track', 'page', 'identify', 'screen', 'group', 'alias', 'other', 1, null],
  messageId: [undefined, 'm-1', '', 'x'.repeat(256), 'x'.repeat(257), 7, null],
  userId: [undefined, 'u1', '', 'u'.repeat(257), 42, 1.5, null, { id: 1 }],
  anonymousId: [undefined, 'a1', '', null, ['a']],
  timestamp: [
    undefined, '2026-10-01T08:00:00.123Z', '2026-10-01T08:00:00Z', '2026-10-01T08:00:00.5Z', '2024-02-29T23:59:59.999Z', '2023-02-29T12:00:00Z', '2026-02-30T00:00:00Z',
    '2026-04-31T00:00:00Z', '2026-10-01T24:00:00Z', '2026-10-01T23:60:00Z', '2026-10-01T23:59:60Z', '2026-13-01T00:00:00Z', '0000-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
    '2026-10-01', '2026-10-01T08:00:00+02:00', '2026-10-01T08:00:00', '2026-10-01T08:00:00.1234Z', 'yesterday', 1_700_000_000, null,
  ],
  sentAt: [undefined, '2026-10-01T08:00:01Z', 'soon'],
  event: [undefined, 'Product Viewed', '  Spaced  ', '', '   ', 'e'.repeat(201), 5, null],
  name: [undefined, 'Home', '', 'n'.repeat(201), 3, null],
  category: [undefined, 'Docs', null],
  properties: [undefined, {}, { sku: 'S1', price: 2 }, [], null, 'text', JSON.parse('{"__proto__": {"x": 1}}')],
  traits: [undefined, { email: 'a@example.com' }, [], null],
  context: [undefined, { ip: '127.0.0.1' }, [], null, Object.create({ inherited: true })],
  extra: [undefined, 'kept out', { deep: true }],
};

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
// Mostly one of the first two values of each list (the usual ones), so that many messages are valid.
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() < 0.8 ? random() * 2 : random() * list.length)]!;
/** An object with a value picked for each key of the table (undefined: the key is left out). */
function pickObject(table: Record<string, unknown[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, options] of Object.entries(table)) {
    const v = pick(options);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

test('what quickParse accepts, the schema accepts with the same result', () => {
  let quick = 0;
  for (let i = 0; i < 40_000; i++) {
    const message = pickObject(values);
    const fast = quickParse(message);
    const full = TrackingMessage.safeParse(message);
    if (fast === undefined) continue;
    quick++;
    assert.ok(full.success, `quickParse accepted what the schema refuses: ${JSON.stringify(message)}`);
    assert.deepEqual(fast, full.data, JSON.stringify(message));
  }
  assert.ok(quick > 1000, `quickParse took ${quick} of 40,000 messages`);
});

test('quickParse takes the common messages of a shop', () => {
  for (const m of makeMessages(2000, 100)) {
    assert.ok(quickParse(m), JSON.stringify(m));
    assert.deepEqual(quickParse(m), TrackingMessage.parse(m));
  }
});

const productValues: Record<string, unknown[]> = {
  sku: ['S1', undefined, '  S2  ', '', '   ', 'k'.repeat(201), 17, Infinity, null, ['S']],
  product_id: [undefined, 'P1', 9.5, '', null],
  cart_id: [undefined, 'c1', 12, ' ', null],
  name: [undefined, 'Mug', 'n'.repeat(501), 4, null],
  category: [undefined, 'Kitchen', 'c'.repeat(201)],
  price: [undefined, 19.99, 0, '19.99', -1, 1e13, NaN, null],
  quantity: [undefined, 1, 2, '3', 0, 1.5, -2, 2_000_000, null],
  url: [undefined, 'https://shop.example/p/1', 'u'.repeat(2001)],
  image_url: [undefined, 'https://shop.example/p/1.jpg'],
  note: [undefined, 'kept in properties, not among the fields'],
};

test('what quickProductEvent accepts, the product events\' schema accepts with the same result', () => {
  let quick = 0;
  for (let i = 0; i < 40_000; i++) {
    const props = pickObject(productValues);
    const fast = quickProductEvent(props);
    if (fast === undefined) continue;
    quick++;
    for (const name of ['Product Viewed', 'Product Added', 'Product Removed'] as const) {
      const full = commerceEvents[name].safeParse(props);
      assert.ok(full.success, `quickProductEvent accepted what the schema refuses: ${JSON.stringify(props)}`);
      assert.deepEqual(fast, full.data, JSON.stringify(props));
    }
  }
  assert.ok(quick > 1000, `quickProductEvent took ${quick} of 40,000`);
});
