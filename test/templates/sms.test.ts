import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileText, sampleContext, smsSegments } from '../../src/templates/index.ts';

test('GSM-7: 160 characters fit one part, 161 need two of 153', () => {
  assert.deepEqual(smsSegments(''), { encoding: 'GSM-7', segments: 0, characters: 0, perSegment: 160 });
  assert.deepEqual(smsSegments('a'.repeat(160)), { encoding: 'GSM-7', segments: 1, characters: 160, perSegment: 160 });
  assert.deepEqual(smsSegments('a'.repeat(161)), { encoding: 'GSM-7', segments: 2, characters: 161, perSegment: 153 });
  assert.equal(smsSegments('a'.repeat(306)).segments, 2);
  assert.equal(smsSegments('a'.repeat(307)).segments, 3);
  // The basic alphabet holds more than ASCII letters.
  assert.equal(smsSegments('Café à Malmö: £5 @ 10% ¿Ñ? Δ_Ω §').encoding, 'GSM-7');
});

test('GSM-7 extension characters count two and never straddle two parts', () => {
  assert.deepEqual(smsSegments('€5 {code} [x] ~^|\\'), { encoding: 'GSM-7', segments: 1, characters: 27, perSegment: 160 }); // 18 characters, 9 from the extension table
  assert.deepEqual(smsSegments('€'.repeat(80)), { encoding: 'GSM-7', segments: 1, characters: 160, perSegment: 160 });
  assert.equal(smsSegments('€'.repeat(81)).segments, 2);
  // 152 septets then '€': the escape pair would not fit in the first part's last septet.
  const s = smsSegments(`${'a'.repeat(152)}€${'a'.repeat(10)}`);
  assert.equal(s.characters, 164);
  assert.equal(s.segments, 2);
  const straddle = smsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`);
  assert.equal(straddle.characters, 306); // would fit 2 × 153 if the pair could be split
  assert.equal(straddle.segments, 3);
});

test('UCS-2: one character outside GSM-7 switches the whole text, emoji count two units', () => {
  assert.deepEqual(smsSegments('Zażółć'), { encoding: 'UCS-2', segments: 1, characters: 6, perSegment: 70 });
  assert.deepEqual(smsSegments(`${'a'.repeat(69)}😀`), { encoding: 'UCS-2', segments: 2, characters: 71, perSegment: 67 });
  assert.deepEqual(smsSegments('a'.repeat(70).replace('a', 'ł')), { encoding: 'UCS-2', segments: 1, characters: 70, perSegment: 70 });
  assert.equal(smsSegments('ł'.repeat(134)).segments, 2);
  assert.equal(smsSegments('ł'.repeat(135)).segments, 3);
  // 66 units then an emoji: its surrogate pair moves whole to the second part.
  const s = smsSegments(`${'ł'.repeat(66)}😀${'ł'.repeat(66)}`);
  assert.equal(s.characters, 134);
  assert.equal(s.segments, 3);
});

test('an SMS template renders plain text that can then be counted', () => {
  const sms = compileText('{{ contact.first_name }}, your cart ({{ cart.total | money: cart.currency }}) is waiting: {{ cart.url }} STOP to opt out');
  const body = sms.render(sampleContext());
  assert.equal(body, 'Ada, your cart (€63.00) is waiting: https://shop.example/cart?id=cart_9&src=email STOP to opt out');
  // '€' counts two.
  assert.deepEqual(smsSegments(body), { encoding: 'GSM-7', segments: 1, characters: body.length + 1, perSegment: 160 });
});
