import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addUtm,
  preferencesUrl,
  rewriteEmailLinks,
  rewriteTextLinks,
  signToken,
  unsubscribeUrl,
  verifyToken,
  type ClickPayload,
  type LinkPayload,
} from '../../src/tracking/links.ts';

const SECRET = 'test-secret-0123456789';
const BASE = 'https://t.shop.example';
const link = { baseUrl: BASE, secret: SECRET, workspaceId: 'w_1', messageId: 'm_42', contactId: 'c_7' };
const utm = { source: 'tend', medium: 'email', campaign: 'abandoned cart' };
const click: ClickPayload = { k: 'c', w: 'w_1', m: 'm_42', c: 'c_7', u: 'https://shop.example/p/1?a=1&b=2#top' };

/** The URL a click link (`${BASE}/t/c/<token>`) redirects to, after checking its token. */
function target(url: string): string {
  const prefix = `${BASE}/t/c/`;
  assert.ok(url.startsWith(prefix), url);
  const result = verifyToken(SECRET, url.slice(prefix.length), 'c');
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual([result.payload.w, result.payload.m, result.payload.c], ['w_1', 'm_42', 'c_7']);
  return result.payload.u;
}

const hrefs = (html: string) => [...html.matchAll(/<a\s[^>]*?href=(["'])(.*?)\1/g)].map((m) => m[2]!);

test('a signed token verifies and gives back its payload', () => {
  const token = signToken(SECRET, click);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(verifyToken(SECRET, token), { ok: true, payload: click });
  assert.deepEqual(verifyToken(SECRET, token, 'c'), { ok: true, payload: click });
});

test('changing any one character of a token is detected', () => {
  const token = signToken(SECRET, click);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '.') continue;
    // The next character of the alphabet: for the signature's last character that also probes
    // base64url's spare bits, which decode to the same bytes.
    const swapped = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]!;
    const changed = token.slice(0, i) + swapped + token.slice(i + 1);
    const result = verifyToken(SECRET, changed);
    assert.equal(result.ok, false, `changed at ${i}`);
    assert.equal(!result.ok && result.reason, 'tampered', `changed at ${i}`);
  }
  // The signature's last character carries 2 spare bits: flipping one decodes to the same MAC bytes.
  const last = alphabet.indexOf(token.at(-1)!);
  const spare = token.slice(0, -1) + alphabet[last ^ 1]!;
  assert.deepEqual(Buffer.from(spare.split('.')[1]!, 'base64url'), Buffer.from(token.split('.')[1]!, 'base64url'));
  assert.equal(verifyToken(SECRET, spare).ok, false);
});

test('unsigned, malformed, foreign and misrouted tokens are refused with a reason', () => {
  const token = signToken(SECRET, click);
  const body = token.split('.')[0]!;
  const reason = (r: ReturnType<typeof verifyToken>) => (r.ok ? 'ok' : r.reason);
  assert.equal(reason(verifyToken(SECRET, body)), 'unsigned');
  assert.equal(reason(verifyToken(SECRET, `${body}.`)), 'unsigned');
  assert.equal(reason(verifyToken(SECRET, '')), 'malformed');
  assert.equal(reason(verifyToken(SECRET, `${body}.abc+/=`)), 'malformed');
  assert.equal(reason(verifyToken(SECRET, `${body}.${token.split('.')[1]}.x`)), 'malformed');
  assert.equal(reason(verifyToken('another-secret', token)), 'tampered');
  assert.equal(reason(verifyToken(SECRET, token, 'u')), 'wrong_kind');
  // Signed by Tend but not a link payload (a click to a javascript: URL is never signed as one).
  const notALink = signToken(SECRET, { ...click, u: 'javascript:alert(1)' } as LinkPayload);
  assert.equal(reason(verifyToken(SECRET, notALink)), 'malformed');
  // A forged payload with a copied signature.
  const forged = `${Buffer.from(JSON.stringify({ ...click, u: 'https://evil.example' })).toString('base64url')}.${token.split('.')[1]}`;
  assert.equal(reason(verifyToken(SECRET, forged)), 'tampered');
});

test('a rotated secret still verifies links already sent', () => {
  const old = signToken('old-secret', click);
  assert.equal(verifyToken(SECRET, old).ok, false);
  assert.deepEqual(verifyToken([SECRET, 'old-secret'], old), { ok: true, payload: click });
});

test('unsubscribe and preference links carry the contact, channel and topic', () => {
  const unsubscribe = unsubscribeUrl({ ...link, baseUrl: `${BASE}/`, channel: 'email', topic: 'newsletter' });
  assert.ok(unsubscribe.startsWith(`${BASE}/t/u/`), unsubscribe);
  assert.deepEqual(verifyToken(SECRET, unsubscribe.slice(`${BASE}/t/u/`.length), 'u'), {
    ok: true,
    payload: { k: 'u', w: 'w_1', m: 'm_42', c: 'c_7', ch: 'email', t: 'newsletter' },
  });
  const preferences = preferencesUrl(link);
  assert.ok(preferences.startsWith(`${BASE}/t/p/`), preferences);
  const result = verifyToken(SECRET, preferences.slice(`${BASE}/t/p/`.length), 'p');
  assert.deepEqual(result, { ok: true, payload: { k: 'p', w: 'w_1', m: 'm_42', c: 'c_7' } });
  assert.equal(verifyToken(SECRET, preferences.slice(`${BASE}/t/p/`.length), 'u').ok, false);
});

test('addUtm keeps the query and fragment and never overrides a parameter already there', () => {
  assert.equal(addUtm('https://shop.example/p', utm), 'https://shop.example/p?utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
  assert.equal(
    addUtm('https://shop.example/p?b=1&utm_source=insta#reviews', { ...utm, content: 'hero' }),
    'https://shop.example/p?b=1&utm_source=insta&utm_medium=email&utm_campaign=abandoned%20cart&utm_content=hero#reviews',
  );
  assert.equal(addUtm('https://shop.example/?', utm), 'https://shop.example/?utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
  assert.equal(addUtm('mailto:hi@shop.example', utm), 'mailto:hi@shop.example');
});

test('http(s) links are tracked with UTM; mailto, tel, anchors, javascript and tracked links are not', () => {
  const html = [
    '<html><body>',
    '<a href="https://shop.example/p/1?color=blue&amp;size=m#details" class="btn">Shirt</a>',
    "<a class='x' href='http://shop.example/sale'>Sale</a>",
    '<a href=https://shop.example/plain>Plain</a>',
    '<a HREF="HTTPS://Shop.Example/Caps">Caps</a>',
    '<a href="mailto:help@shop.example?subject=Hi">Mail</a>',
    '<a href="tel:+48500100200">Call</a>',
    '<a href="#top">Top</a>',
    '<a href="javascript:alert(1)">JS</a>',
    '<a href=" java\tscript:alert(1)">JS2</a>',
    `<a href="${BASE}/t/u/abc.def">Unsubscribe</a>`,
    '<a name="anchor">No href</a>',
    '</body></html>',
  ].join('\n');
  const out = rewriteEmailLinks(html, { ...link, utm });
  const links = hrefs(out);
  assert.equal(target(decodeHtml(links[0]!)), 'https://shop.example/p/1?color=blue&size=m&utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart#details');
  assert.equal(target(links[1]!), 'http://shop.example/sale?utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
  assert.equal(target(links[2]!), 'https://shop.example/plain?utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
  assert.equal(target(links[3]!), 'https://shop.example/Caps?utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
  assert.deepEqual(links.slice(4), ['mailto:help@shop.example?subject=Hi', 'tel:+48500100200', '#top', 'javascript:alert(1)', ' java\tscript:alert(1)', `${BASE}/t/u/abc.def`]);
  // Everything else in the tags stays as written.
  assert.match(out, /<a href="https:\/\/t\.shop\.example\/t\/c\/[\w.-]+" class="btn">Shirt<\/a>/);
  assert.match(out, /<a class='x' href="https:\/\/t\.shop\.example\/t\/c\/[\w.-]+">Sale<\/a>/);
  assert.match(out, /<a name="anchor">No href<\/a>/);
});

test('hostile hrefs cannot break out of the attribute or smuggle a target', () => {
  const html = [
    '<a title="x href=\'https://evil.example\'" href="https://shop.example/ok">One</a>',
    '<a href="https://shop.example/q?x=&quot;&gt;&lt;script&gt;">Two</a>',
    '<a data-href="https://evil.example/data" href="https://shop.example/&#x61;&#98;c?a=1&lt=2">Three</a>',
    '<a href="https://shop.example/x y">Four</a>',
  ].join('\n');
  const out = rewriteEmailLinks(html, link);
  assert.match(out, /title="x href='https:\/\/evil\.example'"/);
  assert.doesNotMatch(out, /<script>/);
  // Rewritten hrefs are always double-quoted; the one in the title is single-quoted.
  const links = [...out.matchAll(/ href="([^"]*)"/g)].map((m) => m[1]!);
  assert.equal(links.length, 4);
  assert.equal(target(links[0]!), 'https://shop.example/ok');
  // Decoded before signing; URL syntax percent-encodes what a Location header cannot carry.
  assert.equal(target(links[1]!), 'https://shop.example/q?x=%22%3E%3Cscript%3E');
  assert.equal(target(links[2]!), 'https://shop.example/abc?a=1&lt=2');
  assert.equal(target(links[3]!), 'https://shop.example/x%20y');
});

test('the open pixel goes before </body>, or at the end without one; a URL used twice is signed once', () => {
  const out = rewriteEmailLinks('<html><body><a href="https://a.example/">A</a><a href="https://a.example/">A again</a></body></html>', link);
  const pixel = /<img src="https:\/\/t\.shop\.example\/t\/o\/([\w.-]+)" width="1" height="1" alt="" style="display:none"><\/body><\/html>$/.exec(out);
  assert.ok(pixel, out);
  assert.deepEqual(verifyToken(SECRET, pixel[1]!, 'o'), { ok: true, payload: { k: 'o', w: 'w_1', m: 'm_42', c: 'c_7' } });
  const [first, second] = hrefs(out);
  assert.equal(first, second);
  assert.match(rewriteEmailLinks('<p>fragment</p>', link), /^<p>fragment<\/p><img src="https:\/\/t\.shop\.example\/t\/o\//);
  assert.match(rewriteEmailLinks('<BODY>x</BODY >', link), /^<BODY>x<img [^>]+><\/BODY >$/);
});

test('text parts get tracked links too, without trailing punctuation', () => {
  const out = rewriteTextLinks('See https://shop.example/cart?id=1. Or mail help@shop.example. Unsubscribe: https://t.shop.example/t/u/x.y', { ...link, utm });
  const m = /^See (\S+)\. Or mail help@shop\.example\. Unsubscribe: https:\/\/t\.shop\.example\/t\/u\/x\.y$/.exec(out);
  assert.ok(m, out);
  assert.equal(target(m[1]!), 'https://shop.example/cart?id=1&utm_source=tend&utm_medium=email&utm_campaign=abandoned%20cart');
});

function decodeHtml(s: string): string {
  return s.replace(/&amp;/g, '&');
}
