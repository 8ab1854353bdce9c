import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileEmail, compileText, PARSE_LIMIT, RENDER_LIMIT_MS, sampleContext, TemplateError, validateTemplate } from '../../src/templates/index.ts';

test('include, render and layout cannot read files, at publish and at compile time', async () => {
  for (const [tag, source] of [
    ['include', `Hi {% include '/etc/passwd' %}`],
    ['render', `{% render 'secrets.liquid' %}`],
    ['layout', `{% layout '../../package.json' %}`],
    ['include', `{% liquid\n  include '/etc/hosts'\n%}`],
  ] as const) {
    const problems = await validateTemplate(source, 'html');
    assert.equal(problems.length, 1, source);
    assert.equal(problems[0]!.message, `the ${tag} tag is not available: Tend templates cannot read other templates or files`);
    assert.throws(() => compileText(source), (err: unknown) => err instanceof TemplateError && /cannot read other templates or files/.test(err.message));
  }
  await assert.rejects(compileEmail({ subject: 'x', html: `<p>{% include 'header.html' %}</p>` }), /html, line 1, column 4: the include tag is not available/);
});

test('mj-include is refused', async () => {
  const mjml = '<mjml><mj-body><mj-include path="/etc/passwd" /></mj-body></mjml>';
  await assert.rejects(compileEmail({ subject: 'x', mjml }), /line 1, column 16: mj-include is not available/);
});

test('a huge range fails on the memory limit at once', () => {
  const template = compileText('{% for i in (1..100000000) %}{{ i }}{% endfor %}');
  const started = performance.now();
  assert.throws(
    () => template.render(sampleContext()),
    (err: unknown) => err instanceof TemplateError && /needed too much memory to render/.test(err.message),
  );
  assert.ok(performance.now() - started < 100, 'fails before it starts looping');
});

test('a runaway nested loop fails on the time limit', () => {
  const template = compileText('{% for i in (1..100000) %}{% for j in (1..100000) %}{{ j }}{% endfor %}{% endfor %}');
  const started = performance.now();
  assert.throws(() => template.render(sampleContext()), (err: unknown) => {
    assert.ok(err instanceof TemplateError);
    assert.match(err.message, new RegExp(`took longer than ${RENDER_LIMIT_MS} ms to render`));
    return true;
  });
  assert.ok(performance.now() - started < RENDER_LIMIT_MS * 4, `stopped after ${performance.now() - started} ms`);
});

test('a template past the parse limit is refused', async () => {
  const problems = await validateTemplate('x'.repeat(PARSE_LIMIT + 1), 'text');
  assert.deepEqual(problems, [{ message: `the template is longer than ${PARSE_LIMIT} characters`, line: 1, column: 1 }]);
});

test('prototype properties are out of reach', () => {
  const out = compileText('[{{ contact.constructor }}][{{ contact.traits.__proto__ }}][{{ contact.toString }}][{{ contact.first_name }}]').render(sampleContext());
  assert.equal(out, '[][][][Ada]');
});

test('text templates are not escaped; a missing value renders empty', () => {
  const context = sampleContext();
  context.contact.first_name = 'Zoë & <Co>';
  delete context.coupon;
  assert.equal(compileText('{{ contact.first_name }}, use {{ coupon.code | default: "WELCOME" }}').render(context), 'Zoë & <Co>, use WELCOME');
});
