// A minimal SMTP server for benchmarks, run as a child process so that receiving mail does not
// share Tend's event loop: it accepts every message, keeps only its Message-ID, and reports the
// counts over IPC. Started by bench/send.ts and bench/journey-crash tests with child_process.fork.
import { SMTPServer } from 'smtp-server';

const ids = new Map<string, number>();
let received = 0;
const server = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    // Only the header block is read for the Message-ID; the rest is drained.
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < 16_384 && !head.includes('\r\n\r\n')) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      received++;
      const id = /^message-id:\s*(<[^>]+>)/im.exec(head)?.[1] ?? `(none ${received})`;
      ids.set(id, (ids.get(id) ?? 0) + 1);
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as { port: number }).port });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    let redelivered = 0;
    for (const n of ids.values()) redelivered += n - 1;
    process.send!({ received, distinct: ids.size, redelivered, ids: [...ids.keys()] });
  }
  if (m.type === 'stop') server.close(() => process.exit(0));
});
