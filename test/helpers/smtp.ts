import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createSmtpProvider } from '../../src/channels/email/provider.ts';
import { EmailConfig } from '../../src/channels/email/config.ts';

export type ReceivedMail = { parsed: ParsedMail; to: string[] };

/**
 * A real SMTP server on 127.0.0.1 that keeps every message it accepts, parsed, and counts the
 * connections made to it. Plain and without AUTH unless `options` (smtp-server's) say otherwise,
 * e.g. STARTTLS with smtp-server's self-signed certificate, AUTH, or refusing some recipients.
 */
export async function startMailbox(options: Omit<SMTPServerOptions, 'onData' | 'onConnect'> = {}) {
  const received: ReceivedMail[] = [];
  let connections = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    ...options,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          received.push({ parsed, to: session.envelope.rcptTo.map((r) => r.address) });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    received,
    connections: () => connections,
    /** An SMTP provider that sends to this server. */
    provider(from = 'Shop <shop@shop.example>') {
      return createSmtpProvider(EmailConfig.parse({
        host: '127.0.0.1', port, secure: false, requireTls: false, tlsRejectUnauthorized: false, from, maxConnections: 4, maxMessages: 1000,
        relay: 'generic', connectionTimeoutMs: 5000, socketTimeoutMs: 10000,
      }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
