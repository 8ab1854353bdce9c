import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEmail, sampleContext, type RenderContext } from '../../src/templates/index.ts';
import { abandonedCart } from './abandoned-cart.ts';

const compiled = await compileEmail(abandonedCart);

function withContact(patch: Partial<RenderContext['contact']>): RenderContext {
  const context = sampleContext();
  context.contact = { ...context.contact, ...patch };
  return context;
}

test('the abandoned-cart email renders one section per cart item, with money and the contact name', () => {
  const { subject, html, text } = compiled.render(sampleContext());
  assert.equal(subject, 'Ada, your cart at Example Shop is waiting');
  assert.match(html, /Hi Ada,/);
  assert.match(html, /Organic cotton tee, blue/);
  assert.match(html, /Stoneware mug/);
  assert.match(html, /2 × €24\.50/);
  assert.match(html, /1 × €14\.00/);
  assert.match(html, /Total: <strong>€63\.00<\/strong>/);
  // The loop kept MJML's layout: each item is a full section with its own image.
  assert.equal(html.match(/src="https:\/\/shop\.example\/i\/[a-z-]+\.jpg"/g)?.length, 2);
  // `&` in the cart URL is escaped in the attribute; the Liquid tags are all gone.
  assert.match(html, /href="https:\/\/shop\.example\/cart\?id=cart_9&amp;src=email"/);
  assert.doesNotMatch(html, /\{\{|\{%|tlq[0-9a-f]{8}x/);
  assert.equal(compiled.textFrom, 'html-template');
  assert.match(text, /^Hi Ada,\nYou left 2 items in your cart at Example Shop\./);
  assert.match(text, /Organic cotton tee, blue\n2 × €24\.50/);
  assert.match(text, /Back to my cart \[https:\/\/shop\.example\/cart\?id=cart_9&src=email\]/);
  assert.doesNotMatch(text, /\n\n\n/);
});

test('an empty cart and a missing coupon render no item sections and no coupon line', () => {
  const context = sampleContext();
  context.cart = { items: [], total: 0, currency: 'EUR', url: 'https://shop.example/cart' };
  delete context.coupon;
  const { html, text } = compiled.render(context);
  assert.doesNotMatch(html, /Stoneware mug|COMEBACK10/);
  assert.doesNotMatch(text, /Stoneware mug|COMEBACK10|Use {2}/);
  assert.match(text, /Total: €0\.00/);
});

test('a contact without a first name gets the default, in the body and the subject', () => {
  const { subject, html } = compiled.render(withContact({ first_name: null }));
  assert.equal(subject, 'Hi, your cart at Example Shop is waiting');
  assert.match(html, /Hi there,/);
});

test('hostile values are escaped in HTML and left as text in the subject and text part', () => {
  const name = `<script>alert("x")</script>' onload='1`;
  const context = withContact({ first_name: name });
  context.workspace.name = 'A&B "Shop"';
  const { subject, html, text } = compiled.render(context);
  assert.doesNotMatch(html, /<script>/);
  assert.match(html, /Hi &lt;script&gt;alert\(&#34;x&#34;\)&lt;\/script&gt;&#39; onload=&#39;1,/);
  assert.match(html, /at A&amp;B &#34;Shop&#34;\./);
  assert.equal(subject, `${name}, your cart at A&B "Shop" is waiting`);
  assert.match(text, /^Hi <script>alert\("x"\)<\/script>' onload='1,/);
});

test('a trait value with a line break cannot add a line to the subject', () => {
  const { subject } = compiled.render(withContact({ first_name: 'Ada\r\nBcc: everyone@example.com' }));
  assert.equal(subject, 'Ada Bcc: everyone@example.com, your cart at Example Shop is waiting');
});

test('the preheader is hidden in the HTML, escaped, and not part of the text', () => {
  const { html, text } = compiled.render(sampleContext());
  assert.match(html, /<div style="display:none;[^"]*">2 items &amp; a little something inside/);
  assert.doesNotMatch(text, /little something/);
});

test('money and dates follow the contact locale and time zone', () => {
  const context = withContact({ locale: 'de_DE', timezone: 'America/New_York' });
  const { html } = compiled.render(context);
  assert.match(html, /2 × 24,50\s€/);
  // 23:59:59 UTC on 15 March is still 15 March in New York (it is the 16th in Warsaw).
  assert.match(html, /until 15\. März 2025\./);
  assert.match(compiled.render(sampleContext()).html, /until 16 March 2025/);
});

test('a plain HTML email renders with Liquid and gets a text part', async () => {
  const email = await compileEmail({
    subject: 'Order {{ order.order_id }}',
    preheader: 'Thanks, {{ contact.first_name }}',
    html: `<html><body><h1>Thanks {{ contact.first_name }}!</h1><ul>{% for item in order.items %}<li>{{ item.name }}: {{ item.price | money }}</li>{% endfor %}</ul>
<p>Ordered {{ order.ordered_at | date: "%-d %b %Y, %H:%M" }}</p></body></html>`,
  });
  const { subject, html, text } = email.render(sampleContext());
  assert.equal(subject, 'Order o_77');
  assert.match(html, /<li>Organic cotton tee, blue: €24\.50<\/li><li>Stoneware mug: €14\.00<\/li>/);
  // 10:00 UTC is 11:00 in Warsaw in February.
  assert.match(html, /Ordered 1 Feb 2025, 11:00/);
  assert.match(html, /<body><div style="display:none;[^"]*">Thanks, Ada<\/div><h1>/);
  assert.equal(email.textFrom, 'html-template');
  assert.match(text, /^Thanks Ada!\n\n \* Organic cotton tee, blue: €24\.50\n \* Stoneware mug: €14\.00/);
});

test('an author-written text part is used as given, and a risky conversion falls back per message', async () => {
  const authored = await compileEmail({ subject: 's', html: '<p>{{ contact.first_name }}</p>', text: 'Hello {{ contact.first_name }} & co' });
  assert.equal(authored.textFrom, 'author');
  assert.equal(authored.render(sampleContext()).text, 'Hello Ada & co');
  // A tag inside an attribute of an element the text skips cannot survive the conversion.
  const risky = await compileEmail({ subject: 's', html: '<p>Hi {{ contact.first_name }}</p><img alt="{% if coupon %}deal{% endif %}" src="x.png">' });
  assert.equal(risky.textFrom, 'html-per-message');
  assert.equal(risky.render(sampleContext()).text, 'Hi Ada');
});

test('"now" in a date filter is the render context clock', async () => {
  const email = await compileEmail({ subject: '{{ "now" | date: "%Y-%m-%d %H:%M" }}', html: '<p>x</p>' });
  const context = sampleContext();
  context.now = '2030-01-01T23:30:00Z';
  assert.equal(email.render(context).subject, '2030-01-02 00:30'); // Warsaw is UTC+1 in winter
});

test('Liquid around the MJML document (assign before <mjml>) still applies', async () => {
  const email = await compileEmail({
    subject: 'x',
    mjml: `{% assign greeting = contact.first_name | default: "friend" | upcase %}<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ greeting }}</mj-text></mj-column></mj-section></mj-body></mjml>`,
  });
  const { html, text } = email.render(sampleContext());
  assert.match(html, /Hello ADA/);
  assert.equal(text, 'Hello ADA');
});

test('a loop over columns inside a section repeats the column', async () => {
  const email = await compileEmail({
    subject: 'x',
    mjml: `<mjml><mj-body><mj-section>{% for r in recommendations %}<mj-column><mj-text>{{ r.name }} {{ r.price | money: "USD" }}</mj-text></mj-column>{% endfor %}</mj-section></mj-body></mjml>`,
  });
  const context = sampleContext();
  context.recommendations = [
    { sku: 'a', name: 'Alpha', price: 1 },
    { sku: 'b', name: 'Beta', price: 2 },
    { sku: 'c', name: 'Gamma', price: 3 },
  ];
  const { html } = email.render(context);
  assert.equal(html.match(/class="mj-column-per-100 mj-outlook-group-fix"/g)?.length, 3);
  assert.match(html, /Alpha US\$1\.00[\s\S]*Beta US\$2\.00[\s\S]*Gamma US\$3\.00/);
});

test('compiling needs exactly one body and reports MJML and Liquid errors with lines', async () => {
  await assert.rejects(compileEmail({ subject: 'x' }), /give either mjml or html/);
  await assert.rejects(compileEmail({ subject: 'x', html: '<p>{% if x %}</p>' }), /html, line 1, column 4: tag \{% if x %\} not closed/);
  await assert.rejects(compileEmail({ subject: '{{ x | nope }}', html: '<p></p>' }), /subject, line 1, column 1: unknown filter nope/);
  await assert.rejects(
    compileEmail({ subject: 'x', mjml: '<mjml>\n<mj-body>\n<mj-section><mj-column><mj-txt>x</mj-txt></mj-column></mj-section></mj-body></mjml>' }),
    /mjml, line 3, column 1: mj-txt: Element mj-txt doesn't exist/,
  );
});
