/**
 * COPY … TO STDOUT on a node-postgres client, collected into one buffer: the bytes of every
 * CopyData message, in order (for COPY in binary format, what copy-binary.ts reads).
 *
 * Why not pg-copy-streams' readable stream: the server sends one CopyData message per row, and
 * the stream cut each one out as a Buffer of its own, then joined them again per socket chunk,
 * and the caller joined those; a rescoring reads three million rows, and those 250 MB of
 * short-lived Buffers kept the garbage collector busier than reading the rows. Here each
 * message's bytes are copied once, straight into the result.
 *
 * It works as pg-copy-streams does: while the COPY runs it takes the connection's socket data
 * from the client; at the end of the data (CopyDone), or at an error from the server, it gives
 * the client back what follows, so that the client reads the command's completion (or the error)
 * and readiness for the next query as usual.
 */
import type pg from 'pg';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
// What the server may send while the data flows: the copy's start (H), CopyData, notices (N),
// parameter changes (S) and notifications (A).
const WITHIN_COPY = new Set([0x48, COPY_DATA, 0x4e, 0x53, 0x41]);

type Connection = { stream: NodeJS.ReadableStream & { listeners(e: 'data'): ((chunk: Buffer) => void)[] }; query(text: string): void };

class CopyOut {
  readonly done: Promise<Uint8Array>;
  private resolve!: (data: Uint8Array) => void;
  private reject!: (err: Error) => void;
  private failed = false;
  private out = Buffer.allocUnsafe(1 << 16);
  private size = 0;
  // The message being read: its type and the bytes of it still to come; `header` holds a type
  // and length cut by the end of a chunk.
  private code = 0;
  private remaining = 0;
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private connection: Connection | null = null;
  private clientHandler: ((chunk: Buffer) => void) | null = null;
  private readonly onData = (chunk: Buffer) => this.read(chunk);

  readonly text: string;

  constructor(text: string) {
    this.text = text;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Called by the client when the query's turn comes. */
  submit(connection: Connection): void {
    this.connection = connection;
    const handlers = connection.stream.listeners('data');
    if (handlers.length !== 1) throw new Error(`a COPY expects the connection to have one data handler, not ${handlers.length}`);
    this.clientHandler = handlers[0]!;
    connection.stream.removeListener('data', this.clientHandler);
    connection.stream.on('data', this.onData);
    connection.query(this.text);
  }

  private read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining === 0) {
        // A message starts: its type byte and four bytes of length (which counts itself), read
        // in place unless the chunk cuts them.
        const start = at;
        const cut = this.headerBytes > 0 || chunk.length - at < 5;
        let code: number;
        let length: number;
        if (!cut) {
          code = chunk[at]!;
          length = chunk.readUInt32BE(at + 1);
          at += 5;
        } else {
          while (this.headerBytes < 5 && at < chunk.length) this.header[this.headerBytes++] = chunk[at++]!;
          if (this.headerBytes < 5) return;
          this.headerBytes = 0;
          code = this.header[0]!;
          length = this.header.readUInt32BE(1);
        }
        if (code === COPY_DONE) return this.handBack(chunk.subarray(at));
        // An error, or anything else the copy does not send: the client reads it, from its start.
        if (!WITHIN_COPY.has(code)) return this.handBack(cut ? Buffer.concat([this.header, chunk.subarray(at)]) : chunk.subarray(start));
        this.code = code;
        this.remaining = length - 4;
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - at);
      if (this.code === COPY_DATA) this.append(chunk, at, n);
      // Anything else within the copy (its start, notices, parameter changes) is passed over.
      at += n;
      this.remaining -= n;
    }
  }

  private append(chunk: Buffer, at: number, n: number): void {
    if (this.size + n > this.out.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.size + n));
      this.out.copy(grown, 0, 0, this.size);
      this.out = grown;
    }
    // A row is a few dozen bytes: copied by hand, it costs a fraction of a call to Buffer.copy.
    if (n <= 256) {
      const out = this.out;
      for (let i = 0, o = this.size; i < n; i++, o++) out[o] = chunk[at + i]!;
    } else chunk.copy(this.out, this.size, at, at + n);
    this.size += n;
  }

  // The client reads `rest` and whatever the socket brings next.
  private handBack(rest: Buffer): void {
    const stream = this.connection!.stream;
    stream.removeListener('data', this.onData);
    stream.on('data', this.clientHandler!);
    if (rest.length > 0) this.clientHandler!(rest);
  }

  handleError(err: Error): void {
    this.failed = true;
    this.reject(err);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.out.subarray(0, this.size));
  }
}

/** The bytes a COPY … TO STDOUT statement sends, on a client of its own for the time being. */
export function copyOut(client: pg.PoolClient, text: string): Promise<Uint8Array> {
  const copy = new CopyOut(text);
  client.query(copy as unknown as pg.Submittable);
  return copy.done;
}
