// A minimal SMTP server for benchmarks, run as a child process so that receiving mail does not
// share Tend's event loop: it accepts every message, keeps only its Message-ID, and reports the
// counts over IPC. Started by bench/send.ts and test/journeys/crash.test.ts with child_process.fork.
import { SMTPServer } from 'smtp-server';

const ids = new Map<string, number>();
// Message-IDs per recipient and subject: one message sent twice under two keys shows up here.
const bySubject = new Map<string, Set<string>>();
let received = 0;
const server = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  size: 10 * 1024 * 1024,
  onData(stream, session, callback) {
    // Only the header block is read for the Message-ID; the rest is drained.
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < 16_384 && !head.includes('\r\n\r\n')) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      received++;
      const id = /^message-id:\s*(<[^>]+>)/im.exec(head)?.[1] ?? `(none ${received})`;
      ids.set(id, (ids.get(id) ?? 0) + 1);
      const subject = /^subject:\s*(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      const key = `${session.envelope.rcptTo.map((r) => r.address).join(',')}\u0000${subject}`;
      const set = bySubject.get(key) ?? new Set<string>();
      set.add(id);
      bySubject.set(key, set);
      callback();
    });
  },
});
// A client killed mid-message resets its connection; that is an event to expect here, not a crash.
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as { port: number }).port });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    let redelivered = 0;
    for (const n of ids.values()) redelivered += n - 1;
    const underTwoKeys = [...bySubject.values()].filter((set) => set.size > 1).length;
    process.send!({ received, distinct: ids.size, redelivered, underTwoKeys, ids: [...ids.keys()] });
  }
  if (m.type === 'stop') server.close(() => process.exit(0));
});
