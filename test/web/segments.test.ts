import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launchBrowser, screenshot, signIn, skipWithoutChromium } from './browser.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_TOO = '"><svg onload=alert(2)> Users';

describe('segments in the web app', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer(testDatabases()[0]!);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const send = (writeKey: string, batch: unknown[]) => server.send(writeKey, batch);
  const admin = (token: string, method: string, path: string, body?: unknown) => server.admin(token, method, path, body);
  const contactId = async (token: string, userId: string) => ((await admin(token, 'GET', `/api/contacts/by-user/${userId}`)).body as { id: number }).id;

  /**
   * A small shop: Ann spent 620 and bought what she put in her cart; Ben and Cleo left products in
   * their carts; Dan bought something small; one visitor stayed anonymous.
   */
  async function shop() {
    const ws = await server.workspace();
    await send(ws.writeKey, [
      { type: 'identify', userId: 'ann', traits: { first_name: 'Ann', email: 'ann@example.com' } },
      { type: 'identify', userId: 'ben', traits: { first_name: 'Ben', email: 'ben@example.com' } },
      { type: 'identify', userId: 'cleo', traits: { first_name: 'Cleo', email: 'cleo@example.com' } },
      { type: 'identify', userId: 'dan', traits: { first_name: 'Dan', email: 'dan@example.com' } },
      { type: 'page', anonymousId: 'anon-1', name: 'Home' },
    ]);
    await send(ws.writeKey, [
      { type: 'track', userId: 'ann', event: 'Product Added', properties: { cart_id: 'cart-a', sku: 'ESP-1', name: 'Espresso machine', price: 620, quantity: 1 } },
      { type: 'track', userId: 'ann', event: 'Order Completed', properties: { order_id: 'ord-1', total: 620, currency: 'EUR', products: [{ sku: 'ESP-1', price: 620, quantity: 1 }] } },
      { type: 'track', userId: 'ben', event: 'Product Added', properties: { cart_id: 'cart-b', sku: 'BEANS-1', name: 'Beans', price: 12, quantity: 2 } },
      { type: 'track', userId: 'cleo', event: 'Product Added', properties: { cart_id: 'cart-c', sku: 'MILL-1', name: 'Grinder', price: 89, quantity: 1 } },
      { type: 'track', userId: 'dan', event: 'Order Completed', properties: { order_id: 'ord-2', total: 40, currency: 'EUR', products: [{ sku: 'BEANS-1', price: 20, quantity: 2 }] } },
    ]);
    await server.tend.segmentUpdater.flush();
    return ws;
  }

  const open = (token: string, hash = '') => signIn(browser, server.url, token, hash);

  const editor = (page: Page) => page.locator('textarea[name=rule]');
  const ruleProblem = (page: Page) => page.locator('[data-error=rule] .error-box');
  /** The text the editor has selected: where the app points at a problem. */
  const selected = (page: Page) => page.$eval('textarea[name=rule]', (t) => (t as HTMLTextAreaElement).value.slice((t as HTMLTextAreaElement).selectionStart, (t as HTMLTextAreaElement).selectionEnd));

  it('creates a segment from a template, previews and saves it, shows its members, recomputes, edits and deletes it', async () => {
    const ws = await shop();
    const { page, problems, close } = await open(ws.adminToken, '#/');
    await page.click('.nav-item[data-nav=segments]');
    await page.waitForSelector('.state:not(.loading)');
    assert.match(await page.locator('.state').innerText(), /No segments yet/);
    assert.equal(await page.locator('.nav-item[data-nav=segments]').evaluate((a) => a.closest('.nav-group')!.querySelector('.nav-heading')!.textContent), 'Audience');
    assert.equal(await page.locator('.nav-item.active').innerText(), 'Segments');
    await screenshot(page, 'segments-empty');

    await page.click('[data-action=new]');
    await page.waitForSelector('textarea[name=rule]');
    assert.match(page.url(), /#\/segments\/new$/);
    // The editor starts with a useful example that the API accepts.
    JSON.parse(await editor(page).inputValue());
    await page.click('[data-template=abandoned-cart]');
    assert.match(page.url(), /#\/segments\/new\?template=abandoned-cart$/);
    assert.equal(await page.inputValue('input[name=name]'), 'Abandoned cart');
    assert.deepEqual(JSON.parse(await editor(page).inputValue()), {
      type: 'and', rules: [{ type: 'event', event: 'Product Added', within: '1d' }, { type: 'not', rule: { type: 'orders', metric: 'last_order_at', op: 'within_last', value: '1d' } }],
    });
    assert.equal(await page.getAttribute('[data-template=abandoned-cart]', 'aria-pressed'), 'true');

    await page.click('[data-action=preview]');
    await page.waitForSelector('[data-preview-count]');
    assert.equal(await page.getAttribute('[data-preview-count]', 'data-preview-count'), '2');
    assert.match(await page.locator('.preview-count').innerText(), /2 contacts match now/);
    const sample = page.locator('[data-section=preview] .member-list a');
    assert.deepEqual(await sample.allInnerTexts(), ['B\nben@example.com', 'C\ncleo@example.com']);
    assert.equal(await sample.first().getAttribute('href'), `#/contacts/${await contactId(ws.adminToken, 'ben')}`);
    await screenshot(page, 'segment-new-preview');

    await page.click('[data-action=save]');
    await page.waitForURL(/#\/segments\/\d+$/);
    const id = Number(/#\/segments\/(\d+)$/.exec(page.url())![1]);
    await page.waitForSelector('.members table');
    assert.equal(await page.locator('h1').innerText(), 'Abandoned cart');
    assert.match(await page.locator('.toast').innerText(), /Segment created with 2 members/);
    assert.equal(await page.locator('[data-members]').innerText(), '2');
    assert.match(await page.locator('[data-section=summary]').innerText(), /Computing took\s+\d+ ms/);
    assert.deepEqual(JSON.parse(await page.locator('.rule-json').innerText()), (await admin(ws.adminToken, 'GET', `/api/segments/${id}`)).body.rule);
    const members = page.locator('.members tbody tr');
    assert.equal(await members.count(), 2);
    assert.match(await members.nth(0).innerText(), /ben@example\.com\s+ben/);
    assert.match(await members.nth(1).innerText(), /cleo@example\.com\s+cleo/);
    await screenshot(page, 'segment-detail');

    await page.click('[data-action=recompute]');
    await page.waitForSelector('[data-recomputed]');
    assert.match(await page.locator('[data-recomputed]').innerText(), /in \d+ ms: 0 contacts entered, 0 contacts left; 2 members now/);
    await page.waitForSelector('.members table');
    await screenshot(page, 'segment-recomputed');

    // The list shows it with its count and when it was computed.
    await page.click('.nav-item[data-nav=segments]');
    await page.waitForSelector('.segments-table');
    const row = page.locator(`.segments-table tr[data-segment="${id}"]`);
    assert.match(await row.innerText(), /Abandoned cart[\s\S]*Added a product[\s\S]*\t2\t[\s\S]*ago · \d+ ms|Abandoned cart[\s\S]*2[\s\S]*(now|ago) · \d+ ms/);
    await screenshot(page, 'segments');

    // A member's contact page lists the segment, with when they entered.
    await row.click();
    await page.waitForSelector('.members table');
    await page.locator('.members tbody tr').first().locator('td').nth(2).click();
    await page.waitForSelector('[data-section=segments]');
    assert.match(page.url(), new RegExp(`#/contacts/${await contactId(ws.adminToken, 'ben')}$`));
    const panel = page.locator('[data-section=segments]');
    assert.match(await panel.innerText(), /Abandoned cart\s+entered (now|\d+ seconds? ago)/);
    await screenshot(page, 'contact-segments');
    await panel.locator('a', { hasText: 'Abandoned cart' }).click();
    await page.waitForSelector('.members table');

    // Editing: another template, the name kept; saving recomputes.
    await page.click('[data-action=edit]');
    await page.waitForSelector('textarea[name=rule]');
    assert.equal(await page.inputValue('input[name=name]'), 'Abandoned cart');
    await page.click('[data-template=big-spenders]');
    assert.equal(await page.inputValue('input[name=name]'), 'Abandoned cart');
    await page.fill('input[name=name]', 'Big spenders');
    await page.click('[data-action=save]');
    await page.waitForURL(new RegExp(`#/segments/${id}$`));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Big spenders' && document.querySelectorAll('.members tbody tr').length === 1);
    assert.match(await page.locator('.members tbody').innerText(), /ann@example\.com/);

    // The contact who left no longer lists it.
    const ben = await contactId(ws.adminToken, 'ben');
    assert.deepEqual((await admin(ws.adminToken, 'GET', `/api/contacts/${ben}/segments`)).body.segments, []);

    // Deleting asks first; cancelling keeps the segment.
    await page.click('[data-action=edit]');
    await page.waitForSelector('[data-action=delete]');
    await page.click('[data-action=delete]');
    await page.waitForSelector('dialog.modal[open]');
    assert.equal(await page.locator('dialog.modal h2').innerText(), 'Delete “Big spenders”?');
    await screenshot(page, 'segment-delete-dialog');
    await page.click('dialog.modal button[value=cancel]');
    await page.waitForSelector('dialog.modal', { state: 'detached' });
    assert.equal((await admin(ws.adminToken, 'GET', `/api/segments/${id}`)).status, 200);
    await page.click('[data-action=delete]');
    await page.click('dialog.modal button[value=confirm]');
    await page.waitForURL(/#\/segments$/);
    await page.waitForSelector('.state:not(.loading)');
    assert.equal(await page.locator('.toast', { hasText: 'deleted' }).innerText(), '“Big spenders” was deleted');
    assert.equal((await admin(ws.adminToken, 'GET', `/api/segments/${id}`)).status, 404);
    assert.deepEqual(problems, []);
    await close();
  });

  it('shows invalid JSON, invalid rules and refused names readably, next to what they are about', async () => {
    const ws = await shop();
    const { page, problems, close } = await open(ws.adminToken, '#/segments/new');
    await page.waitForSelector('textarea[name=rule]');
    const previews: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/segments/preview')) previews.push(r.postData() ?? '');
    });

    // Not JSON: caught before anything is sent, with where it is.
    await editor(page).fill('{\n  "type": "orders",\n  "metric": "count"\n  "op": "gte"\n}');
    await page.click('[data-action=preview]');
    await page.waitForSelector('[data-error=rule] .error-box');
    let text = await ruleProblem(page).innerText();
    assert.match(text, /The rule is not valid JSON/);
    assert.match(text, /line 4, column 3/);
    assert.equal(await editor(page).getAttribute('aria-invalid'), 'true');
    assert.deepEqual(previews, []);
    // Typing clears the complaint.
    await editor(page).press('End');
    await editor(page).type(' ');
    assert.equal(await ruleProblem(page).count(), 0);

    // Valid JSON, invalid rule: the API's message with the field path, and the value selected.
    await editor(page).fill(JSON.stringify({
      type: 'and',
      rules: [{ type: 'orders', metric: 'count', op: 'gte', value: 1 }, { type: 'event', eventType: 'page', within: 'ninety days', count: { op: 'eq', value: 0 } }],
    }, null, 2));
    await page.click('[data-action=preview]');
    await page.waitForSelector('[data-error=rule] .error-box');
    text = await ruleProblem(page).innerText();
    assert.match(text, /The rule was not accepted/);
    assert.equal(await page.locator('[data-problem-message]').innerText(), 'a duration such as 30min, 1h, 90d, 2w, 3mo or 1y');
    assert.equal(await page.locator('[data-problem-field]').innerText(), 'rule.rules.1.within');
    assert.match(text, /line 13, column 17/);
    assert.equal(await selected(page), '"ninety days"');
    assert.equal(previews.length, 1);
    assert.match(await page.locator('[data-section=preview]').innerText(), /needs fixing/);
    await screenshot(page, 'segment-new-invalid-rule');

    // The API names the field of a type that does not exist, a misspelt operator, a missing field;
    // where it can only say "has the wrong type or format", the rule schema it publishes explains.
    const explained = async (rule: string) => {
      await editor(page).fill(rule);
      await page.click('[data-action=preview]');
      await page.waitForSelector('[data-error=rule] [data-problem-field]');
      return { field: await page.locator('[data-problem-field]').innerText(), message: await page.locator('[data-problem-message]').innerText(), selected: await selected(page) };
    };
    assert.deepEqual(await explained('{ "type": "and", "rules": [{ "type": "vip" }] }'), {
      field: 'rule.rules.0.type', message: 'rule.rules.0.type must be one of "and", "or", "not", "trait", "event", "event_time", "orders", "bought", "date", "engagement", "reachable", "score", "segment", "random"', selected: '"vip"',
    });
    assert.deepEqual(await explained('{"type": "or", "rules": [{"type": "bought", "sku": "ESP-1"}, {"type": "orders", "metric": "count", "op": "atleast", "value": 2}]}'), {
      field: 'rule.rules.1.op', message: 'rule.rules.1.op must be one of "eq", "neq", "gt", "gte", "lt", "lte", "before", "after", "within_last", "more_than_ago"', selected: '"atleast"',
    });
    assert.deepEqual(await explained('{"type": "not", "rule": {"type": "orders", "metric": "count", "value": 2}}'), {
      field: 'rule.rule.op', message: 'rule.rule.op must be one of "eq", "neq", "gt", "gte", "lt", "lte", "before", "after", "within_last", "more_than_ago"', selected: '{"type": "orders", "metric": "count", "value": 2}',
    });
    assert.deepEqual(await explained('{"type": "score", "field": "churn_band", "op": "in", "value": [1]}'), {
      field: 'rule.value.0', message: 'rule.value.0 must be string', selected: '1',
    });
    await screenshot(page, 'segment-new-unknown-type');

    // A field no rule has is refused by the API, naming it.
    assert.deepEqual(await explained('{"type": "event", "event": "Product Added", "withn": "1d"}'), {
      field: 'rule', message: 'rule has unknown field withn', selected: await selected(page),
    });
    assert.match(page.url(), /#\/segments\/new/);

    // Something that is JSON but not a rule.
    await editor(page).fill('[1, 2]');
    await page.click('[data-action=preview]');
    assert.match(await ruleProblem(page).innerText(), /This is not a rule[\s\S]*A rule is a JSON object with a "type"/);

    // Saving: a name is needed, and one that is not taken.
    await page.click('[data-template=holdout]');
    await page.fill('input[name=name]', '   ');
    await page.click('[data-action=save]');
    assert.equal(await page.locator('[data-error=name]').innerText(), 'Give the segment a name.');
    assert.equal(await page.getAttribute('input[name=name]', 'aria-invalid'), 'true');
    assert.equal((await admin(ws.adminToken, 'POST', '/api/segments', { name: 'Taken', rule: { type: 'random', from: 0, to: 5 } })).status, 201);
    await page.fill('input[name=name]', 'Taken');
    await page.click('[data-action=save]');
    await page.waitForSelector('[data-error=name]:not([hidden])');
    assert.equal(await page.locator('[data-error=name]').innerText(), 'a segment named "Taken" exists already');
    assert.match(page.url(), /#\/segments\/new/);

    // Saving an invalid rule shows the same complaint as previewing it.
    await page.fill('input[name=name]', 'Bad window');
    await editor(page).fill('{"type":"bought","category":"Coffee","within":"a year"}');
    await page.click('[data-action=save]');
    await page.waitForSelector('[data-error=rule] .error-box');
    assert.equal(await page.locator('[data-problem-field]').innerText(), 'rule.within');
    assert.equal(await selected(page), '"a year"');
    assert.match(page.url(), /#\/segments\/new/);
    // A rule that validates but cannot work, refused by the compiler, names the rule.
    await editor(page).fill('{"type":"segment","segmentId":999999}');
    await page.click('[data-action=save]');
    await page.waitForFunction(() => /does not exist/.test(document.querySelector('[data-error=rule]')?.textContent ?? ''));
    assert.equal(await page.locator('[data-problem-message]').innerText(), 'segment 999999 does not exist');
    assert.equal(((await admin(ws.adminToken, 'GET', '/api/segments')).body.segments as unknown[]).length, 1);
    assert.deepEqual(problems, []);
    await close();
  });

  it('renders hostile segment names as text and explains why a segment in use cannot be deleted', async () => {
    const ws = await shop();
    const base = (await admin(ws.adminToken, 'POST', '/api/segments', { name: HOSTILE, description: `${HOSTILE} spenders`, rule: { type: 'orders', metric: 'total', op: 'gt', value: 500 } })).body as { id: number };
    const user = (await admin(ws.adminToken, 'POST', '/api/segments', { name: HOSTILE_TOO, rule: { type: 'and', rules: [{ type: 'segment', segmentId: base.id }, { type: 'orders', metric: 'count', op: 'gte', value: 1 }] } })).body as { id: number };
    const { page, problems, close } = await open(ws.adminToken, '#/segments');
    await page.waitForSelector('.segments-table');
    assert.deepEqual(await page.locator('.segments-table .segment-name').allInnerTexts(), [HOSTILE, HOSTILE_TOO]);
    assert.equal(await page.locator(`.segments-table tr[data-segment="${base.id}"] td.num`).innerText(), '1');

    await page.click(`.segments-table tr[data-segment="${base.id}"] a`);
    await page.waitForSelector('.members table');
    assert.equal(await page.locator('h1').innerText(), HOSTILE);
    assert.equal(await page.locator('.subtitle').innerText(), `${HOSTILE} spenders`);
    assert.equal(await page.evaluate(() => document.title), `${HOSTILE} · Tend`);
    assert.deepEqual(await page.locator('[data-section=used-by] a').allInnerTexts(), [HOSTILE_TOO]);

    await page.click('[data-action=delete]');
    await page.waitForSelector('dialog.modal[open]');
    assert.equal(await page.locator('dialog.modal h2').innerText(), `Delete “${HOSTILE}”?`);
    await page.click('dialog.modal button[value=confirm]');
    await page.waitForSelector('[data-problem=in-use]');
    const refusal = await page.locator('[data-problem=in-use]').innerText();
    assert.ok(refusal.includes(`“${HOSTILE}” is still in use, so it was not deleted`), refusal);
    assert.ok(refusal.includes('This segment includes it in its rule'), refusal);
    assert.equal(await page.locator('[data-problem=in-use] a').innerText(), HOSTILE_TOO);
    assert.equal(await page.getAttribute('[data-problem=in-use] a', 'href'), `#/segments/${user.id}`);
    assert.equal((await admin(ws.adminToken, 'GET', `/api/segments/${base.id}`)).status, 200);
    assert.match(page.url(), new RegExp(`#/segments/${base.id}`));
    await screenshot(page, 'segment-delete-in-use');

    // The editor and the contact's panel show the names as text too.
    await page.goto(`${server.url}/#/segments/${base.id}/edit`);
    await page.waitForSelector('input[name=name]');
    assert.equal(await page.inputValue('input[name=name]'), HOSTILE);
    assert.equal(await page.locator('h1').innerText(), `Edit ${HOSTILE}`);
    await page.goto(`${server.url}/#/contacts/${await contactId(ws.adminToken, 'ann')}`);
    await page.waitForSelector('[data-section=segments] li');
    assert.deepEqual(await page.locator('[data-section=segments] a').allInnerTexts(), [HOSTILE_TOO, HOSTILE].sort());

    assert.equal(await page.locator('#app img, #app script, #app [onload], #app [onerror]').count(), 0);
    assert.deepEqual(problems, []);
    await close();
  });

  it('pages through members by contact number and says when a segment does not exist', async () => {
    const ws = await server.workspace();
    await send(ws.writeKey, Array.from({ length: 63 }, (_, i) => ({ type: 'identify', userId: `member-${String(i).padStart(2, '0')}`, traits: { plan: 'gold', email: `m${i}@example.com` } })));
    await send(ws.writeKey, [{ type: 'identify', userId: 'other', traits: { plan: 'free' } }]);
    const { id } = (await admin(ws.adminToken, 'POST', '/api/segments', { name: 'Gold plan', rule: { type: 'trait', trait: 'plan', op: 'eq', value: 'gold' } })).body as { id: number };
    const { page, problems, close } = await open(ws.adminToken, `#/segments/${id}`);
    await page.waitForSelector('.members table');
    const rows = page.locator('.members tbody tr');
    assert.equal(await rows.count(), 50);
    assert.equal(await page.locator('[data-members]').innerText(), '63');
    assert.ok(await page.locator('[data-page=previous]').isDisabled());
    const first = await rows.first().locator('.member-label').innerText();
    assert.equal(first, 'm0@example.com');
    await page.click('[data-page=next]');
    await page.waitForFunction(() => document.querySelectorAll('.members tbody tr').length === 13);
    assert.match(page.url(), /\?after=\d+$/);
    assert.equal(await rows.first().locator('.member-label').innerText(), 'm50@example.com');
    assert.ok(await page.locator('[data-page=next]').isDisabled());
    await page.click('[data-page=previous]');
    await page.waitForFunction(() => document.querySelectorAll('.members tbody tr').length === 50);
    assert.equal(await rows.first().locator('.member-label').innerText(), first);
    assert.doesNotMatch(page.url(), /after=/);

    // The preview samples the first 20 by contact number.
    await page.goto(`${server.url}/#/segments/${id}/edit`);
    await page.click('[data-action=preview]');
    await page.waitForSelector('[data-preview-count]');
    assert.equal(await page.locator('[data-section=preview] .member-list li').count(), 20);
    assert.match(await page.locator('[data-section=preview]').innerText(), /63 contacts match now[\s\S]*The first 20 by contact number/);
    await screenshot(page, 'segment-edit-preview');

    await page.goto(`${server.url}/#/segments/999999`);
    await page.waitForSelector('.state:not(.loading)');
    assert.match(await page.locator('.state').innerText(), /There is no segment #999999/);
    assert.deepEqual(problems, []);
    await close();
  });
});
