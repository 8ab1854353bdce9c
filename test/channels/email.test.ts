import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { startMailbox } from '../helpers/smtp.ts';
import { emailConfigFromEnv, type EmailConfig } from '../../src/channels/email/config.ts';
import { createSmtpProvider, messageIdFor, smtpSendResult } from '../../src/channels/email/provider.ts';
import type { OutgoingMessage } from '../../src/channels/port.ts';

/** A real SMTP server on 127.0.0.1 with STARTTLS (smtp-server's self-signed certificate) and AUTH, refusing some recipients. */
const startSmtp = () =>
  startMailbox({
    authOptional: false,
    disabledCommands: [],
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'tend' && auth.password === 's3cret') callback(null, { user: 'tend' });
      else callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const local = address.address.split('@')[0];
      if (local === 'greylisted') return callback(Object.assign(new Error('4.7.1 Greylisted, try again later'), { responseCode: 451 }));
      if (local === 'gone') return callback(Object.assign(new Error('5.1.1 <gone@example.com>: Recipient address rejected: User unknown'), { responseCode: 550 }));
      if (local === 'blocked') return callback(Object.assign(new Error('5.7.1 Message rejected under policy'), { responseCode: 550 }));
      callback();
    },
  });

function config(port: number, overrides: Partial<EmailConfig> = {}): EmailConfig {
  const base = emailConfigFromEnv({
    TEND_SMTP_URL: `smtp://tend:s3cret@127.0.0.1:${port}`,
    TEND_EMAIL_FROM: 'Tend Shop <hello@shop.example>',
    TEND_SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
    TEND_SMTP_REQUIRE_TLS: 'true',
    TEND_SMTP_POOL_SIZE: '1',
    TEND_SMTP_TIMEOUT_MS: '3000',
  });
  assert.ok(base);
  return { ...base, ...overrides };
}

let sequence = 0;
function message(to: string, key = `a1b2c3d4e5f60718293a4b5c6d7e8f${String(++sequence).padStart(2, '0')}`): OutgoingMessage<'email'> {
  return {
    id: `msg_${key.slice(0, 8)}`,
    idempotencyKey: key,
    workspaceId: 'ws_test',
    channel: 'email',
    transactional: false,
    attempt: 1,
    payload: {
      from: 'Tend Shop <hello@shop.example>',
      to,
      replyTo: 'care@shop.example',
      subject: 'Your cart misses you, Zoë',
      html: '<p>Hello <b>Zoë</b>, your <a href="https://shop.example/c/1">cart</a> is waiting.</p>',
      text: 'Hello Zoë, your cart is waiting: https://shop.example/c/1',
      headers: {
        'List-Unsubscribe': '<https://shop.example/u/abc>, <mailto:unsubscribe@shop.example?subject=abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'X-Tend-Journey': 'abandoned-cart\r\nBcc: victim@example.com',
        'Message-ID': '<forged@example.com>',
      },
    },
  };
}

describe('email over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  before(async () => {
    smtp = await startSmtp();
  });
  after(async () => {
    await smtp.close();
  });

  it('delivers the message with a Message-ID from the idempotency key, its headers, html and text', async () => {
    const provider = createSmtpProvider(config(smtp.port));
    const m = message('jane@example.com');
    try {
      const result = await provider.send(m);
      assert.equal(result.status, 'accepted', JSON.stringify(result));
      assert.ok(result.status === 'accepted' && result.providerMessageId);
      const got = smtp.received.at(-1)!;
      assert.deepEqual(got.to, ['jane@example.com']);
      assert.equal(got.parsed.messageId, `<${m.idempotencyKey}@shop.example>`);
      assert.equal(got.parsed.subject, 'Your cart misses you, Zoë');
      assert.equal(got.parsed.from?.value[0]?.address, 'hello@shop.example');
      assert.equal(got.parsed.from?.value[0]?.name, 'Tend Shop');
      assert.equal(got.parsed.replyTo?.value[0]?.address, 'care@shop.example');
      assert.match(String(got.parsed.html), /Hello <b>Zoë<\/b>/);
      assert.equal(got.parsed.text?.trim(), 'Hello Zoë, your cart is waiting: https://shop.example/c/1');
      const line = (key: string) => got.parsed.headerLines.find((h) => h.key === key)?.line;
      assert.equal(line('list-unsubscribe-post'), 'List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      assert.match(String(line('list-unsubscribe')).replace(/\r?\n\s+/g, " "), /<https:\/\/shop\.example\/u\/abc>, <mailto:unsubscribe@shop\.example\?subject=abc>/);
      assert.equal(got.parsed.headers.get('x-tend-key'), m.idempotencyKey);
      // A line break in a header value cannot smuggle in a header of its own.
      assert.equal(got.parsed.headers.get('bcc'), undefined);
      assert.equal(got.parsed.headers.get('x-tend-journey'), 'abandoned-cart Bcc: victim@example.com');
    } finally {
      await provider.close();
    }
  });

  it('repeats the same Message-ID when the same message is retried', async () => {
    const provider = createSmtpProvider(config(smtp.port));
    const m = message('retry@example.com');
    try {
      await provider.send(m);
      await provider.send({ ...m, attempt: 2 });
      const ids = smtp.received.filter((r) => r.to[0] === 'retry@example.com').map((r) => r.parsed.messageId);
      assert.deepEqual(ids, [messageIdFor(m.idempotencyKey, 'shop.example'), messageIdFor(m.idempotencyKey, 'shop.example')]);
    } finally {
      await provider.close();
    }
  });

  it('maps a temporary 451 on RCPT to retry, 550 5.1.1 to a hard bounce, 550 5.7.1 to failed without suppression', async () => {
    const provider = createSmtpProvider(config(smtp.port));
    try {
      const temp = await provider.send(message('greylisted@example.com'));
      assert.equal(temp.status, 'retry');
      assert.ok(temp.status === 'retry' && temp.retryAfterMs! >= 60_000, JSON.stringify(temp));
      assert.match(temp.status === 'retry' ? temp.error : '', /451/);

      const gone = await provider.send(message('gone@example.com'));
      assert.deepEqual({ status: gone.status, suppress: gone.status === 'failed' && gone.suppress }, { status: 'failed', suppress: 'hard_bounce' });

      const blocked = await provider.send(message('blocked@example.com'));
      assert.equal(blocked.status, 'failed');
      assert.equal(blocked.status === 'failed' ? blocked.suppress : 'x', undefined);
    } finally {
      await provider.close();
    }
  });

  it('reuses pooled connections across messages', async () => {
    const provider = createSmtpProvider(config(smtp.port, { maxConnections: 1, maxMessages: 50 }));
    const before = smtp.connections();
    try {
      const results = await Promise.all([1, 2, 3, 4].map((i) => provider.send(message(`pool${i}@example.com`))));
      assert.deepEqual(results.map((r) => r.status), ['accepted', 'accepted', 'accepted', 'accepted']);
      assert.equal(smtp.connections() - before, 1);
    } finally {
      await provider.close();
    }
  });

  it('opens a fresh connection after maxMessages', async () => {
    const provider = createSmtpProvider(config(smtp.port, { maxConnections: 1, maxMessages: 2 }));
    const before = smtp.connections();
    try {
      for (let i = 0; i < 4; i++) assert.equal((await provider.send(message(`fresh${i}@example.com`))).status, 'accepted');
      assert.equal(smtp.connections() - before, 2);
    } finally {
      await provider.close();
    }
  });

  it('retries when the relay cannot be reached, or its certificate is not trusted, or the password is wrong', async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = createSmtpProvider(config(port));
    const strict = createSmtpProvider(config(smtp.port, { tlsRejectUnauthorized: true }));
    const wrong = createSmtpProvider(config(smtp.port, { pass: 'wrong' }));
    try {
      const a = await down.send(message('x@example.com'));
      assert.equal(a.status, 'retry');
      assert.match(a.status === 'retry' ? a.error : '', /ECONNREFUSED|ECONNECTION/);
      const b = await strict.send(message('x@example.com'));
      assert.equal(b.status, 'retry', JSON.stringify(b));
      const c = await wrong.send(message('x@example.com'));
      assert.equal(c.status, 'retry', JSON.stringify(c));
      assert.ok(c.status === 'retry' && c.retryAfterMs! >= 15 * 60_000);
    } finally {
      await Promise.all([down.close(), strict.close(), wrong.close()]);
    }
  });

  it('verify() checks the connection and the credentials', async () => {
    const good = createSmtpProvider(config(smtp.port));
    const bad = createSmtpProvider(config(smtp.port, { pass: 'nope' }));
    try {
      assert.equal((await good.verify()).status, 'accepted');
      assert.equal((await bad.verify()).status, 'retry');
    } finally {
      await Promise.all([good.close(), bad.close()]);
    }
  });
});

describe('SMTP replies', () => {
  const err = (responseCode: number | undefined, command: string, response: string, code = 'EENVELOPE') => Object.assign(new Error(response), { responseCode, command, response, code });

  it('suppresses only for mailbox problems on RCPT TO', () => {
    assert.equal(smtpSendResult(err(551, 'RCPT TO', '551 User not local')).status, 'failed');
    assert.deepEqual(smtpSendResult(err(553, 'RCPT TO', '553 mailbox name not allowed')), { status: 'failed', error: '553 mailbox name not allowed', suppress: 'hard_bounce' });
    assert.deepEqual(smtpSendResult(err(550, 'RCPT TO', '550 5.2.1 mailbox disabled')), { status: 'failed', error: '550 5.2.1 mailbox disabled', suppress: 'hard_bounce' });
    assert.deepEqual(smtpSendResult(err(552, 'RCPT TO', '552 5.2.2 mailbox full')), { status: 'failed', error: '552 5.2.2 mailbox full' });
    assert.deepEqual(smtpSendResult(err(554, 'DATA', '554 5.7.1 spam', 'EMESSAGE')), { status: 'failed', error: '554 5.7.1 spam' });
    assert.deepEqual(smtpSendResult(err(550, 'MAIL FROM', '550 sender rejected')), { status: 'failed', error: '550 sender rejected' });
  });

  it('retries 4xx replies and connection errors', () => {
    assert.equal(smtpSendResult(err(421, 'CONN', '421 too busy', 'EPROTOCOL')).status, 'retry');
    assert.equal(smtpSendResult(err(452, 'RCPT TO', '452 4.2.2 over quota')).status, 'retry');
    assert.equal(smtpSendResult(err(undefined, 'CONN', 'Connection timeout', 'ETIMEDOUT')).status, 'retry');
  });
});

describe('email configuration', () => {
  it('is absent without TEND_SMTP_URL and names the variable that is wrong', () => {
    assert.equal(emailConfigFromEnv({}), undefined);
    assert.throws(() => emailConfigFromEnv({ TEND_SMTP_URL: 'smtp://127.0.0.1:25' }), /TEND_EMAIL_FROM is required/);
    assert.throws(() => emailConfigFromEnv({ TEND_SMTP_URL: 'http://mail.example', TEND_EMAIL_FROM: 'a@b.example' }), /TEND_SMTP_URL is not valid/);
    assert.throws(() => emailConfigFromEnv({ TEND_SMTP_URL: 'smtp://mail.example', TEND_EMAIL_FROM: 'a@b.example', TEND_SMTP_POOL_SIZE: 'many' }), /TEND_SMTP_POOL_SIZE is not valid/);
    assert.throws(() => emailConfigFromEnv({ TEND_SMTP_URL: 'smtp://mail.example', TEND_EMAIL_FROM: 'nobody' }), /TEND_EMAIL_FROM is not valid/);
    assert.throws(() => emailConfigFromEnv({ TEND_SMTP_URL: 'smtp://mail.example', TEND_EMAIL_FROM: 'a@b.example', TEND_SMTP_TLS_REJECT_UNAUTHORIZED: 'maybe' }), /TEND_SMTP_TLS_REJECT_UNAUTHORIZED is not valid/);
  });

  it('reads the URL, pool and TLS settings', () => {
    const c = emailConfigFromEnv({ TEND_SMTP_URL: 'smtps://user%40shop:p%3Ass@mail.example', TEND_EMAIL_FROM: 'Shop <hi@shop.example>', TEND_SMTP_POOL_SIZE: '3' })!;
    assert.deepEqual(
      { host: c.host, port: c.port, secure: c.secure, user: c.user, pass: c.pass, pool: c.maxConnections, reject: c.tlsRejectUnauthorized },
      { host: 'mail.example', port: 465, secure: true, user: 'user@shop', pass: 'p:ss', pool: 3, reject: true },
    );
  });
});
