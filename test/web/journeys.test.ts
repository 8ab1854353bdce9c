import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { testDatabases } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launchBrowser, screenshot, signIn, skipWithoutChromium } from './browser.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';

describe('journeys, blueprints and messages in the web app', { skip: skipWithoutChromium }, () => {
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

  const admin = (token: string, method: string, path: string, body?: unknown) => server.admin(token, method, path, body);

  const open = (token: string, hash = '') => signIn(browser, server.url, token, hash);

  it('installs a blueprint in one click, shows it active with its flow and counts, pauses and resumes it, and shows a sent email sandboxed', async () => {
    const ws = await server.workspace();
    await server.send(ws.writeKey, [
      { type: 'identify', userId: 'ann', traits: { email: 'ann@example.com', first_name: 'Ann', consent: { email: true } } },
      { type: 'identify', userId: 'eve', traits: { email: 'eve@example.com', first_name: HOSTILE, consent: { email: true } } },
    ]);
    const { page, problems, close } = await open(ws.adminToken, '#/');
    assert.equal(await page.locator('.nav-item[data-nav=journeys]').evaluate((a) => a.closest('.nav-group')!.querySelector('.nav-heading')!.textContent), 'Automation');
    await page.click('.nav-item[data-nav=journeys]');
    await page.waitForSelector('.state:not(.loading)');
    assert.match(await page.locator('.state').innerText(), /No journeys yet/);

    await page.click('.nav-item[data-nav=blueprints]');
    await page.waitForSelector('[data-blueprint=welcome]');
    // In the order of the customer's life, each with its stage.
    assert.deepEqual(await page.locator('[data-blueprint]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.blueprint)), [
      'welcome', 'abandoned-cart', 'cross-sell', 'birthday', 'milestones', 'replenishment', 'win-back', 'clean-up', 'welcome-back',
    ]);
    assert.match(await page.locator('[data-blueprint=win-back] .blueprint-trigger').innerText(), /^Every Monday at 09:00 \(UTC\), everyone in the segment “Customers with no visit in 90 days” enters\.$/);
    await screenshot(page, 'blueprints');
    await page.click('[data-blueprint=welcome] [data-action=install]');
    await page.waitForURL(/#\/journeys\/\d+$/);
    const id = Number(/#\/journeys\/(\d+)$/.exec(page.url())![1]);
    await page.waitForSelector('[data-section=steps] .flow');
    assert.equal(await page.locator('h1').innerText(), 'Welcome programme');
    assert.equal(await page.locator('.journey-status').getAttribute('data-status'), 'active');
    assert.equal(await page.locator('[data-version]').innerText(), 'version 1');
    assert.match(await page.locator('.toast').first().innerText(), /“Welcome programme” is live \(version 1\)/);
    assert.equal(await page.locator('[data-trigger]').innerText(), 'When a contact does “Signed Up”.');
    assert.match(await page.locator('[data-settings]').innerText(), /once, ever[\s\S]*Goal: “Order Completed” within 14 days of entering \(counted; the journey goes on\)/);
    // The branch draws its two arms side by side; the flow reads top to bottom.
    const arms = page.locator('[data-step=bought] > .flow-arms > .flow-arm');
    assert.equal(await arms.count(), 2);
    assert.match(await arms.nth(0).innerText(), /Has ordered: number of orders ≥ 1[\s\S]*Already a customer/);
    assert.match(await arms.nth(1).innerText(), /Otherwise[\s\S]*10 % off, valid 14 days[\s\S]*First-purchase offer[\s\S]*Done/);
    assert.deepEqual(await page.locator('.flow-root > .flow-step').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.step ?? 'trigger')), ['trigger', 'welcome', 'wait-2d', 'tips', 'wait-5d', 'bought']);

    // Two contacts sign up; the welcome email goes out (to the outbox).
    await server.send(ws.writeKey, [
      { type: 'track', userId: 'ann', event: 'Signed Up', properties: {} },
      { type: 'track', userId: 'eve', event: 'Signed Up', properties: {} },
    ]);
    await server.tend.runner.drain();
    await server.tend.delivery.drain();
    await page.reload();
    await page.waitForSelector('[data-step=welcome] [data-count=sent]');
    assert.equal(await page.locator('[data-step=welcome] [data-count=reached]').innerText(), '2 reached');
    assert.equal(await page.locator('[data-step=welcome] [data-count=sent]').innerText(), '2 sent');
    assert.equal(await page.locator('[data-step=wait-2d] [data-count=here]').innerText(), '2 here now');
    assert.equal(await page.locator('[data-inside]').innerText(), '2');
    await screenshot(page, 'journey-detail');

    // The dry run (where this Tend has it) replays the last 28 days through the draft.
    if (await page.locator('[data-action=dry-run]').count()) {
      await page.click('[data-action=dry-run]');
      await page.waitForSelector('[data-dry-run]');
      assert.match(await page.locator('[data-dry-run]').innerText(), /Nothing was sent or saved/);
      assert.match(await page.locator('[data-step=welcome] [data-count=dry-run]').innerText(), /^\d+ in the dry run$/);
      await screenshot(page, 'journey-dry-run');
    }

    await page.click('[data-action=pause]');
    await page.waitForSelector('.journey-status[data-status=paused]');
    assert.equal((await admin(ws.adminToken, 'GET', `/api/journeys/${id}`)).body.status, 'paused');
    await page.click('[data-action=resume]');
    await page.waitForSelector('.journey-status[data-status=active]');

    // The journey file, as a download.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=export]')]);
    assert.equal(download.suggestedFilename(), 'welcome-programme.journey.json');
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { name: string; steps: unknown[] };
    assert.equal(file.name, 'Welcome programme');
    assert.equal(file.steps.length, 9);

    await page.click('.nav-item[data-nav=journeys]');
    await page.waitForSelector('.journeys-table');
    const row = page.locator(`tr[data-journey="${id}"]`);
    assert.equal(await row.locator('.journey-status').getAttribute('data-status'), 'active');
    assert.deepEqual([await row.locator('[data-col=version]').innerText(), await row.locator('[data-col=inside]').innerText(), await row.locator('[data-col=sent]').innerText()], ['v1', '2', '2']);
    await screenshot(page, 'journeys');

    // Messages: the email as sent, inside an iframe that runs nothing and has an origin of its own.
    await page.click('.nav-item[data-nav=messages]');
    await page.waitForSelector('.messages-table');
    assert.equal(await page.locator('tr[data-message]').count(), 2);
    await page.locator('tr[data-message]', { hasText: 'eve@example.com' }).locator('td').first().click();
    await page.waitForSelector('.email-frame');
    assert.equal(await page.getAttribute('.email-frame', 'sandbox'), '');
    assert.equal(await page.locator('[data-subject]').innerText(), `Welcome to test, ${HOSTILE}`);
    const frame = page.frameLocator('.email-frame');
    assert.match(await frame.locator('body').innerText(), /Thank you for joining test/);
    assert.match(await frame.locator('body').innerText(), /Hi <img src=x onerror=alert\(1\)>,/, 'the contact data is text inside the email too');
    const holders = await page.evaluate(() => Array.from(document.querySelectorAll('body *'))
      .filter((el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent!.includes('Thank you for joining')))
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`));
    assert.deepEqual(holders, ['pre.email-text'], 'the email is not part of the page: only its plain-text part, as text');
    assert.equal(await page.locator('.email-preview > *').count(), 1);
    assert.match(page.url(), /#\/messages\?message=\d+$/);
    await page.click('[data-tab=text]');
    assert.match(await page.locator('.email-text').innerText(), /Thank you for joining test/);
    await page.click('[data-tab=html]');
    await screenshot(page, 'messages');
    assert.equal(await page.locator('img[src=x]').count(), 0);
    assert.deepEqual(problems, []);
    await close();
  });

  it('shows a hostile journey name as text, and every template problem by field when publishing', async () => {
    const ws = await server.workspace();
    const created = await admin(ws.adminToken, 'POST', '/api/journeys', {
      name: HOSTILE,
      description: `"><svg onload=alert(2)>`,
      trigger: { type: 'event', event: HOSTILE },
      steps: [
        { id: 'hello', name: HOSTILE, type: 'send', channel: 'email', content: { email: { subject: `Hi ${HOSTILE}`, html: '<p>Hi {{ contact.first_name }}</p>' } } },
      ],
    });
    assert.equal(created.status, 201);
    const { page, problems, close } = await open(ws.adminToken, '#/journeys');
    await page.waitForSelector('.journeys-table');
    assert.equal(await page.locator('.journey-name').innerText(), HOSTILE);
    assert.equal(await page.locator('tr[data-journey] .truncate-2').innerText(), `"><svg onload=alert(2)>`);
    await screenshot(page, 'journeys-hostile');
    await page.click('.journey-name');
    await page.waitForSelector('[data-section=editor] textarea');
    assert.equal(await page.locator('h1').innerText(), HOSTILE);
    assert.equal(await page.locator('[data-trigger]').innerText(), `When a contact does “${HOSTILE}”.`);
    assert.match(await page.locator('[data-step=hello]').innerText(), new RegExp(`${HOSTILE.replace(/[()]/g, '\\$&')}[\\s\\S]*Send an email “Hi ${HOSTILE.replace(/[()]/g, '\\$&')}”`));
    assert.equal(await page.locator('img[src=x], svg[onload]').count(), 0);

    // A typo in the draft: publishing saves the draft, then lists the problem by field.
    const editor = page.locator('textarea[name=draft]');
    await editor.fill((await editor.inputValue()).replace('contact.first_name', 'contact.frist_name'));
    await page.click('[data-action=publish]');
    await page.waitForSelector('.problem-list');
    assert.equal(await page.locator('[data-problem-field]').innerText(), 'steps.0.content.email.html');
    assert.equal(await page.locator('[data-problem-message]').innerText(), 'unknown variable contact.frist_name; did you mean contact.first_name? (line 1, column 10)');
    const selected = await editor.evaluate((t) => (t as HTMLTextAreaElement).value.slice((t as HTMLTextAreaElement).selectionStart, (t as HTMLTextAreaElement).selectionEnd));
    assert.equal(selected, '"<p>Hi {{ contact.frist_name }}</p>"', 'the editor selects the field');
    assert.equal(await page.locator('.journey-status').getAttribute('data-status'), 'draft');
    await screenshot(page, 'journey-publish-problem');

    // Fixed, it publishes.
    await editor.fill((await editor.inputValue()).replace('contact.frist_name', 'contact.first_name'));
    await page.click('[data-action=publish]');
    await page.waitForSelector('.journey-status[data-status=active]');
    assert.equal(await page.locator('[data-version]').innerText(), 'version 1');
    assert.deepEqual(problems, []);
    await close();
  });
});
