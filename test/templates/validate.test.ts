import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEmail, validateTemplate, type TemplateProblem } from '../../src/templates/index.ts';
import { abandonedCart } from './abandoned-cart.ts';

const brief = (problems: TemplateProblem[]) => problems.map((p) => `${p.field ? `${p.field} ` : ''}${p.line}:${p.column} ${p.message}`);

test('the abandoned-cart email has no problems', async () => {
  assert.deepEqual(await validateEmail(abandonedCart), []);
});

test('an unknown variable is reported where it is, with the likely name', async () => {
  const problems = await validateTemplate('Hello,\n  {{ contact.frist_name }} and {{ custmer.email }}', 'text');
  assert.deepEqual(brief(problems), [
    '2:6 unknown variable contact.frist_name; did you mean contact.first_name?',
    '2:35 unknown variable custmer.email',
  ]);
});

test('loop variables, forloop, assign and capture are understood, and loop items are checked', async () => {
  const source = [
    '{% assign nick = contact.traits.nickname | default: contact.first_name %}',
    '{% capture greeting %}Hi {{ nick }}{% endcapture %}{{ greeting }}',
    '{% for item in cart.items %}{{ forloop.index }}. {{ item.name }} {{ item.price | money }}{% endfor %}',
    '{% for r in recommendations limit: 2 %}{{ r.url }}{{ r.nmae }}{% endfor %}',
    '{{ cart.items.first.sku }} {{ order.items[0].quantity }} {{ cart.items.size }} {{ event.properties.cart_id }}',
    '{% for item in order.items %}{{ forloop.indx }}{% endfor %}{{ contact.traits.any.depth.at_all }}',
  ].join('\n');
  assert.deepEqual(brief(await validateTemplate(source, 'text')), [
    '4:54 unknown variable r.nmae; did you mean r.name?',
    '6:33 unknown variable forloop.indx; did you mean forloop.index?',
  ]);
});

test('unknown filters and tags, and bad syntax, are reported with line and column', async () => {
  assert.deepEqual(brief(await validateTemplate('Total\n{{ cart.total | mony }}', 'text')), ['2:1 unknown filter mony; did you mean money?']);
  assert.deepEqual(brief(await validateTemplate('a\nb {% iff x %}{% endif %}', 'html')), ['2:3 unknown tag iff']);
  assert.deepEqual(brief(await validateTemplate('line one\n  {% if contact.email %}open', 'text')), ['2:3 tag {% if contact.email %} not closed']);
  assert.deepEqual(brief(await validateTemplate('{{ contact.email ', 'text')), ['1:1 output "{{ contact.email " not closed']);
});

test('MJML errors come with the line of the author source, past multi-line Liquid tags', async () => {
  const mjml = [
    '<mjml>', //                                                           1
    '<mj-body>', //                                                        2
    '{% if contact.first_name', //                                         3
    '   and contact.email %}', //                                          4
    '<mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section>', // 5
    '{% endif %}', //                                                      6
    '<mj-include path="../../etc/passwd" />', //                          7
    '<mj-section><mj-column><mj-texte>{{ contact.emial }}</mj-texte></mj-column></mj-section>', // 8
    '</mj-body>',
    '</mjml>',
  ].join('\n');
  assert.deepEqual(brief(await validateTemplate(mjml, 'mjml', 'mjml')), [
    'mjml 5:1 mj-text: Attribute colour is illegal',
    'mjml 7:1 mj-include is not available: Tend templates cannot read files; paste the part in',
    "mjml 8:1 mj-texte: Element mj-texte doesn't exist or is not registered",
    // MJML drops what an unknown element holds, and the variable in it is misspelt too.
    'mjml 8:34 MJML drops {{ contact.emial }} here; put it inside mj-text, mj-raw or an attribute MJML keeps',
    'mjml 8:37 unknown variable contact.emial; did you mean contact.email?',
  ]);
});

test('Liquid that MJML would drop is reported', async () => {
  const mjml = '<mjml><mj-head><mj-attributes><mj-all padding="{{ contact.traits.pad }}" /></mj-attributes></mj-head><mj-body></mj-body></mjml>';
  const problems = brief(await validateTemplate(mjml, 'mjml'));
  assert.ok(problems.some((p) => /^1:48 MJML drops \{\{ contact\.traits\.pad \}\} here/.test(p)), problems.join('\n'));
});

test('an email is validated part by part, each problem naming its field', async () => {
  const problems = await validateEmail({ subject: '{{ contact.first }}', preheader: '{{ coupon.cod }}', html: '<p>{{ workspace.nam }}</p>', text: '{% if %}' });
  assert.deepEqual(brief(problems), [
    'subject 1:4 unknown variable contact.first; did you mean contact.first_name?',
    'preheader 1:4 unknown variable coupon.cod; did you mean coupon.code?',
    'html 1:7 unknown variable workspace.nam; did you mean workspace.name?',
    'text 1:6 invalid value expression: ""',
  ]);
  assert.deepEqual(brief(await validateEmail({ subject: ' ', mjml: '<mjml><mj-body></mj-body></mjml>', html: '<p></p>' })), [
    'mjml 1:1 give either mjml or html',
    'subject 1:1 the subject is empty',
  ]);
  assert.deepEqual(brief(await validateTemplate('<p>not mjml</p>', 'mjml')), [
    '1:1 Malformed MJML. Check that your structure is correct and enclosed in <mjml> tags.',
  ]);
});
