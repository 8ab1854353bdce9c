/**
 * Email over SMTP through a pool of connections to the relay (smtp-client.ts). One call is one attempt: the pipeline
 * retries with backoff, and because the Message-ID is derived from the idempotency key, a retry
 * after a lost reply ("did the relay take it?") is the same message, which receiving systems and
 * relays recognise as a duplicate.
 */
import type { ChannelProvider, OutgoingMessage, SendResult } from '../port.ts';
import type { EmailConfig } from './config.ts';
import { buildMime } from './mime.ts';
import { createSmtpClient } from './smtp-client.ts';

/** The Message-ID for an idempotency key: `<key@domain>`, the same on every attempt. */
export function messageIdFor(idempotencyKey: string, domain: string): string {
  return `<${idempotencyKey}@${domain}>`;
}

/** The domain of an address such as `Shop <hello@shop.example>`, lower-cased. */
export function addressDomain(address: string): string | undefined {
  const m = /@([^@\s>]+)>?\s*$/.exec(address);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Headers nodemailer sets from the message fields; a template's headers may not replace them. */
const reserved = new Set(['message-id', 'from', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'sender', 'mime-version', 'content-type', 'content-transfer-encoding', 'return-path']);

/**
 * The headers that carry the idempotency key to the relay, so its webhooks name the message even
 * when the relay replaces the Message-ID (SES and Postmark do). `X-Tend-Key` survives into most
 * bounce messages' copy of the original headers.
 */
export function relayHeaders(relay: EmailConfig['relay'], key: string): Record<string, string> {
  const headers: Record<string, string> = { 'X-Tend-Key': key };
  switch (relay) {
    case 'ses':
      headers['X-SES-MESSAGE-TAGS'] = `tend_key=${key}`;
      break;
    case 'sendgrid':
      headers['X-SMTPAPI'] = JSON.stringify({ unique_args: { tend_key: key } });
      break;
    case 'mailgun':
      headers['X-Mailgun-Variables'] = JSON.stringify({ tend_key: key });
      break;
    case 'postmark':
      headers['X-PM-Metadata-tend_key'] = key;
      break;
    case 'generic':
      break;
  }
  return headers;
}

function cleanHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!-9;-~]+$/.test(name) || reserved.has(name.toLowerCase())) continue;
    // A line break in a value would start a header (or the body) of its own.
    out[name] = String(value).replace(/[\r\n]+/g, ' ');
  }
  return out;
}

type SmtpError = Error & { code?: string; responseCode?: number; command?: string; response?: string };

const MINUTE = 60_000;

/**
 * What an SMTP failure means for the message. 4xx replies and connection trouble are temporary;
 * a 5xx reply to RCPT TO that is about the mailbox (550/551/553, or enhanced status 5.1.x/5.2.1)
 * is a hard bounce that suppresses the address; other 5xx replies (policy, content, 5.7.x) fail
 * the message without blaming the recipient.
 */
export function smtpSendResult(err: SmtpError): SendResult {
  const code = err.responseCode;
  const reply = (err.response ?? err.message).trim();
  if (code === undefined || code < 400) {
    if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') return { status: 'failed', error: reply };
    // Connection, DNS, TLS, timeouts, authentication: the relay or its settings, not the recipient.
    const wait = err.code === 'EAUTH' || err.code === 'ETLS' ? 15 * MINUTE : MINUTE;
    return { status: 'retry', error: `${err.code ?? 'ERROR'}: ${reply}`, retryAfterMs: wait };
  }
  if (code < 500) {
    // Greylisting asks for a few minutes; a full mailbox or a busy relay longer.
    return { status: 'retry', error: reply, retryAfterMs: code === 452 ? 15 * MINUTE : 5 * MINUTE };
  }
  if (err.command === 'AUTH' || err.command?.startsWith('AUTH ')) {
    return { status: 'retry', error: `authentication failed: ${reply}`, retryAfterMs: 15 * MINUTE };
  }
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(reply);
  const aboutMailbox = enhanced
    ? enhanced[2] === '1' || (enhanced[2] === '2' && enhanced[3] === '1')
    : code === 550 || code === 551 || code === 553;
  if (err.command === 'RCPT TO' && aboutMailbox) return { status: 'failed', error: reply, suppress: 'hard_bounce' };
  return { status: 'failed', error: reply };
}

/** The relay's own id from its 250 reply ("queued as 4F2A1", SES's "Ok 0100018…"), if it gives one. */
export function queueIdFrom(response: string): string | undefined {
  const m = /queued as ([A-Za-z0-9._@<>-]+)/i.exec(response) ?? /^250 (?:2\.0\.0 )?Ok ([A-Za-z0-9-]{20,})/i.exec(response);
  return m?.[1];
}

export type SmtpProvider = ChannelProvider<'email'> & {
  /** Checks the connection and credentials (for `tend serve` at start and the settings page). */
  verify(): Promise<SendResult>;
};

/** The address inside `Name <addr>`, for the SMTP envelope. */
function bareAddress(value: string): string {
  return /<([^>]+)>\s*$/.exec(value)?.[1] ?? value.trim();
}

/** The email channel over SMTP. */
export function createSmtpProvider(config: EmailConfig): SmtpProvider {
  const domain = config.messageIdDomain ?? addressDomain(config.from) ?? 'tend.invalid';
  const client = createSmtpClient({
    host: config.host, port: config.port, secure: config.secure, requireTls: config.requireTls, tlsRejectUnauthorized: config.tlsRejectUnauthorized,
    user: config.user, pass: config.pass, maxConnections: config.maxConnections, maxMessages: config.maxMessages,
    connectionTimeoutMs: config.connectionTimeoutMs, socketTimeoutMs: config.socketTimeoutMs,
  });

  return {
    channel: 'email',
    name: 'smtp',
    async send(message: OutgoingMessage<'email'>): Promise<SendResult> {
      const p = message.payload;
      const messageId = messageIdFor(message.idempotencyKey, domain);
      try {
        const from = p.from || config.from;
        const raw = buildMime({
          from, to: p.to, replyTo: p.replyTo, subject: p.subject, html: p.html, text: p.text, messageId, date: new Date(),
          headers: { ...cleanHeaders(p.headers), ...relayHeaders(config.relay, message.idempotencyKey) },
        });
        const response = await client.send({ from: bareAddress(from), to: [bareAddress(p.to)] }, raw);
        return { status: 'accepted', providerMessageId: queueIdFrom(response) ?? messageId, detail: response };
      } catch (err) {
        return smtpSendResult(err as SmtpError);
      }
    },
    async verify(): Promise<SendResult> {
      try {
        await client.verify();
        return { status: 'accepted', detail: `${config.host}:${config.port} answers` };
      } catch (err) {
        return smtpSendResult(err as SmtpError);
      }
    },
    async close(): Promise<void> {
      client.close();
    },
  };
}
