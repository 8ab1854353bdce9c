import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileText, sampleContext, type RenderContext } from '../../src/templates/index.ts';

function render(source: string, contact: Partial<RenderContext['contact']> = {}, patch: Partial<RenderContext> = {}): string {
  const context = { ...sampleContext(), ...patch };
  context.contact = { ...context.contact, ...contact };
  return compileText(source).render(context);
}

test('money follows the contact locale and the currency given, else the order or cart currency', () => {
  assert.equal(render('{{ 1234.5 | money: "EUR" }}', { locale: 'de-DE' }), '1.234,50\u00a0€');
  assert.equal(render('{{ 1234.5 | money: "PLN" }}', { locale: 'pl_PL' }), '1234,50\u00a0zł');
  assert.equal(render('{{ 1234.5 | money: "usd" }}', { locale: 'en-US' }), '$1,234.50');
  assert.equal(render('{{ 19.9 | money }}', { locale: 'en-GB' }), '€19.90'); // the order's currency
  assert.equal(render('{{ 19.9 | money }}', { locale: 'en-GB' }, { order: undefined, cart: { items: [], total: 0, currency: 'GBP' } }), '£19.90');
  assert.equal(render('{{ 19.9 | money }}', { locale: 'en-GB' }, { order: undefined, cart: undefined }), '19.90');
  // Junk in a profile or a price never fails the message.
  assert.equal(render('{{ "12" | money: "EUR" }}', { locale: 'no such locale!' }), '€12.00');
  assert.equal(render('{{ "n/a" | money: "EUR" }}'), 'n/a');
});

test('dates show in the contact zone; calendar dates stay on their day', () => {
  const instant = '2025-03-15T23:30:00Z';
  assert.equal(render(`{{ "${instant}" | date: "%Y-%m-%d %H:%M" }}`, { timezone: 'Europe/Warsaw' }), '2025-03-16 00:30');
  assert.equal(render(`{{ "${instant}" | date: "%Y-%m-%d %H:%M" }}`, { timezone: 'America/New_York' }), '2025-03-15 19:30');
  assert.equal(render(`{{ "${instant}" | date: "%H:%M", "Asia/Tokyo" }}`), '08:30');
  assert.equal(render(`{{ "${instant}" | date: "%H:%M" }}`, { timezone: 'Mars/Olympus' }), '23:30'); // unknown zone: UTC
  assert.equal(render('{{ contact.traits.birthday | date: "%-d %B" }}', { timezone: 'America/Los_Angeles', traits: { birthday: '1990-06-15' } }), '15 June');
  assert.equal(render('{{ "1990-06-15" | format_date }}', { timezone: 'Pacific/Honolulu', locale: 'en-US' }), 'June 15, 1990');
  assert.equal(render(`{{ "${instant}" | format_date: "full" }}`, { locale: 'fr-FR', timezone: 'Europe/Paris' }), 'dimanche 16 mars 2025');
  assert.equal(render(`{{ "${instant}" | format_datetime: "short" }}`, { locale: 'en-GB', timezone: 'UTC' }), '15/03/2025, 23:30');
  assert.equal(render('{{ "not a date" | format_date }}'), 'not a date');
});
