import net from 'node:net';
import tls from 'node:tls';
import { hostname } from 'node:os';

/**
 * A small SMTP client for sending prepared messages through one relay, with a pool of
 * connections. Why not nodemailer's transport: profiling the send benchmark showed its data
 * stream (a per-byte JavaScript transform) and its many small socket writes costing more CPU
 * than rendering the email. This client writes MAIL FROM, RCPT TO and DATA in one go when the
 * relay offers PIPELINING (RFC 2920), the whole message in one write, and dot-stuffs only when a
 * line starts with a dot (never, for base64 bodies). It speaks what a relay needs: EHLO,
 * STARTTLS (RFC 3207), AUTH PLAIN and LOGIN, RSET after a refused envelope, QUIT.
 *
 * Failures are thrown as SmtpError with the reply code and the command it answered, the shape
 * `smtpSendResult` turns into retry / failed / hard bounce.
 */

export type SmtpClientOptions = {
  host: string;
  port: number;
  /** TLS from the first byte (smtps). */
  secure: boolean;
  /** Refuse to go on unless STARTTLS upgrades the connection. */
  requireTls: boolean;
  tlsRejectUnauthorized: boolean;
  user?: string;
  pass?: string;
  maxConnections: number;
  /** Messages per connection before it is closed and a fresh one opened. */
  maxMessages: number;
  connectionTimeoutMs: number;
  socketTimeoutMs: number;
};

export class SmtpError extends Error {
  readonly code: string;
  readonly responseCode?: number;
  readonly command?: string;
  readonly response?: string;
  constructor(message: string, detail: { code: string; responseCode?: number; command?: string; response?: string }) {
    super(message);
    this.code = detail.code;
    this.responseCode = detail.responseCode;
    this.command = detail.command;
    this.response = detail.response;
  }
}

type Reply = { code: number; text: string };

/** One connection: replies are read in order and handed to the waiters in the order they asked. */
class Connection {
  private socket: net.Socket;
  private buffer = '';
  private lines: string[] = [];
  private waiters: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: SmtpError | null = null;
  capabilities = new Set<string>();
  auth: string[] = [];
  sent = 0;

  private readonly options: SmtpClientOptions;

  constructor(socket: net.Socket, options: SmtpClientOptions) {
    this.options = options;
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.setTimeout(this.options.socketTimeoutMs);
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('timeout', () => this.fail(new SmtpError(`the SMTP server did not answer within ${this.options.socketTimeoutMs} ms`, { code: 'ETIMEDOUT' })));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new SmtpError(`${err.code ?? 'ERROR'} ${err.message}`, { code: err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /certificate/i.test(err.message) ? 'ETLS' : 'ECONNECTION' })));
    socket.on('close', () => this.fail(new SmtpError('the SMTP server closed the connection', { code: 'ECONNECTION' })));
  }

  get alive(): boolean {
    return this.failure === null;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.lines.push(line);
      // "250-…" continues a reply; "250 …" ends it.
      if (line.length < 4 || line[3] !== '-') {
        const text = this.lines.join('\n');
        this.lines = [];
        this.waiters.shift()?.resolve({ code: Number(line.slice(0, 3)), text });
      }
    }
  }

  private fail(err: SmtpError): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.socket.destroy();
  }

  reply(): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    const r = this.reply();
    this.write(`${line}\r\n`);
    return r;
  }

  async ehlo(): Promise<void> {
    const r = await this.command(`EHLO ${hostname() || 'localhost'}`);
    if (r.code !== 250) throw replyError(r, 'EHLO', 'EPROTOCOL');
    this.capabilities = new Set();
    for (const line of r.text.split('\n').slice(1)) {
      const cap = line.slice(4).trim().toUpperCase();
      this.capabilities.add(cap.split(' ')[0]!);
      if (cap.startsWith('AUTH')) this.auth = cap.split(/[ =]/).slice(1);
    }
  }

  /** Upgrades the plain connection to TLS in place (STARTTLS). */
  async startTls(): Promise<void> {
    const r = await this.command('STARTTLS');
    if (r.code !== 220) throw replyError(r, 'STARTTLS', 'ETLS');
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.removeAllListeners('timeout');
    const secure = tls.connect({ socket: plain, servername: net.isIP(this.options.host) ? undefined : this.options.host, rejectUnauthorized: this.options.tlsRejectUnauthorized });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', (err) => reject(new SmtpError(`TLS: ${err.message}`, { code: 'ETLS' })));
    });
    this.socket = secure;
    this.attach(secure);
    await this.ehlo();
  }

  async authenticate(user: string, pass: string): Promise<void> {
    let r: Reply;
    let command = 'AUTH PLAIN';
    if (this.auth.includes('PLAIN') || !this.auth.includes('LOGIN')) {
      r = await this.command(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')}`);
    } else {
      command = 'AUTH LOGIN';
      r = await this.command('AUTH LOGIN');
      if (r.code === 334) r = await this.command(Buffer.from(user).toString('base64'));
      if (r.code === 334) r = await this.command(Buffer.from(pass).toString('base64'));
    }
    if (r.code !== 235) throw replyError(r, command, 'EAUTH');
  }

  /** One message: the envelope pipelined when the server allows it, then the data in one write. */
  async send(from: string, to: readonly string[], raw: Buffer): Promise<string> {
    const commands = [`MAIL FROM:<${from}>`, ...to.map((t) => `RCPT TO:<${t}>`), 'DATA'];
    const names = ['MAIL FROM', ...to.map(() => 'RCPT TO'), 'DATA'];
    const replies: Reply[] = [];
    if (this.capabilities.has('PIPELINING')) {
      const pending = commands.map(() => this.reply());
      this.write(`${commands.join('\r\n')}\r\n`);
      for (const p of pending) replies.push(await p);
    } else {
      for (const c of commands) {
        const r = await this.command(c);
        replies.push(r);
        if ((c === 'DATA' && r.code !== 354) || (c !== 'DATA' && r.code >= 400)) break;
      }
    }
    const refused = replies.findIndex((r, i) => (names[i] === 'DATA' ? r.code !== 354 : r.code >= 400));
    if (refused !== -1) {
      // Which reply explains it: the first refused envelope command, not DATA's "no valid recipients".
      const cause = replies.findIndex((r, i) => names[i] !== 'DATA' && r.code >= 400);
      const i = cause === -1 ? refused : cause;
      if (replies[replies.length - 1]?.code === 354) await this.endData(Buffer.alloc(0)).catch(() => undefined);
      await this.command('RSET').catch(() => undefined);
      throw replyError(replies[i]!, names[i]!, 'EENVELOPE');
    }
    const r = await this.endData(raw);
    this.sent++;
    if (r.code !== 250) throw replyError(r, 'DATA', 'EMESSAGE');
    return r.text;
  }

  private endData(raw: Buffer): Promise<Reply> {
    const reply = this.reply();
    const body = dotStuff(raw);
    const endsWithCrlf = body.length >= 2 && body[body.length - 2] === 13 && body[body.length - 1] === 10;
    this.write(Buffer.concat([body, Buffer.from(endsWithCrlf || body.length === 0 ? '.\r\n' : '\r\n.\r\n')]));
    return reply;
  }

  quit(): void {
    if (!this.alive) return;
    this.write('QUIT\r\n');
    this.socket.end();
    this.failure = new SmtpError('closed', { code: 'ECONNECTION' });
  }
}

function replyError(r: Reply, command: string, code: string): SmtpError {
  const text = r.text.replace(/\n/g, ' ');
  return new SmtpError(`${command}: ${text}`, { code, responseCode: r.code, command, response: text });
}

/** Lines that start with "." get another one (RFC 5321 4.5.2); most messages have none. */
function dotStuff(raw: Buffer): Buffer {
  if (raw.length === 0 || (raw[0] !== 46 && raw.indexOf('\n.') === -1)) return raw;
  return Buffer.from(raw.toString('latin1').replace(/(^|\n)\./g, '$1..'), 'latin1');
}

/** A pool of connections to one relay. */
export function createSmtpClient(options: SmtpClientOptions) {
  const idle: Connection[] = [];
  let open = 0;
  const queue: ((c: Connection | Error) => void)[] = [];
  let closed = false;

  async function connect(): Promise<Connection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = options.secure
        ? tls.connect({ host: options.host, port: options.port, servername: net.isIP(options.host) ? undefined : options.host, rejectUnauthorized: options.tlsRejectUnauthorized })
        : net.connect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SmtpError(`no connection to ${options.host}:${options.port} within ${options.connectionTimeoutMs} ms`, { code: 'ETIMEDOUT' }));
      }, options.connectionTimeoutMs);
      s.once(options.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new SmtpError(`${err.code ?? ''} ${err.message}`.trim(), { code: options.secure && /certificate|self.signed/i.test(err.message) ? 'ETLS' : 'ECONNECTION' }));
      });
    });
    const c = new Connection(socket, options);
    try {
      const greeting = await c.reply();
      if (greeting.code !== 220) throw replyError(greeting, 'CONN', 'EPROTOCOL');
      await c.ehlo();
      if (!options.secure && c.capabilities.has('STARTTLS')) await c.startTls();
      else if (!options.secure && options.requireTls) throw new SmtpError('the SMTP server does not offer STARTTLS and TLS is required', { code: 'ETLS' });
      if (options.user) await c.authenticate(options.user, options.pass ?? '');
      return c;
    } catch (err) {
      c.quit();
      throw err;
    }
  }

  async function acquire(): Promise<Connection> {
    for (;;) {
      const c = idle.pop();
      if (!c) break;
      if (c.alive) return c;
      open--;
    }
    if (open < options.maxConnections) {
      open++;
      try {
        return await connect();
      } catch (err) {
        open--;
        throw err;
      }
    }
    const next = await new Promise<Connection | Error>((resolve) => queue.push(resolve));
    if (next instanceof Error) throw next;
    return next;
  }

  function release(c: Connection): void {
    if (!c.alive || c.sent >= options.maxMessages || closed) {
      c.quit();
      open--;
      // A waiter takes the freed slot with a connection of its own.
      const waiter = queue.shift();
      if (waiter) {
        open++;
        connect().then(waiter, (err: Error) => {
          open--;
          waiter(err);
        });
      }
      return;
    }
    const waiter = queue.shift();
    if (waiter) waiter(c);
    else idle.push(c);
  }

  return {
    /** Sends one prepared message; resolves with the server's final reply. */
    async send(envelope: { from: string; to: readonly string[] }, raw: Buffer): Promise<string> {
      const c = await acquire();
      try {
        return await c.send(envelope.from, envelope.to, raw);
      } finally {
        release(c);
      }
    },
    /** Connects, upgrades and authenticates once, then leaves. */
    async verify(): Promise<void> {
      const c = await connect();
      c.quit();
    },
    close(): void {
      closed = true;
      for (const c of idle.splice(0)) c.quit();
      for (const w of queue.splice(0)) w(new SmtpError('the SMTP client is closed', { code: 'ECONNECTION' }));
      open = 0;
    },
  };
}
