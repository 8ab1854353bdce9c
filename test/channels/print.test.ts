import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printConfigFromEnv } from '../../src/channels/print/config.ts';
import { createPrintProvider, manifestColumns, nextMailingDay } from '../../src/channels/print/provider.ts';
import { addressLines, parseBody, toWinAnsi } from '../../src/channels/print/render.ts';
import { parsePrintEvents } from '../../src/channels/print/webhooks.ts';
import { readCsv } from '../../src/imports/index.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import type { OutgoingMessage, PostalAddress, PrintPayload } from '../../src/channels/port.ts';

/** The text a PDF shows, from its uncompressed content streams (pdfkit writes WinAnsi hex strings in TJ arrays). */
function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const lines: string[] = [];
  for (const m of source.matchAll(/\[([^\]]*)\] TJ/g)) {
    lines.push([...m[1]!.matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join(''));
  }
  return lines.join('\n');
}

/** Where a line of text starts on its page, in mm from the left and from the top (A4 pages). */
function textPosition(pdf: Buffer, startsWith: string): { left: number; top: number } {
  const mm = 25.4 / 72;
  for (const m of pdf.toString('latin1').matchAll(/1 0 0 1 ([\d.]+) ([\d.]+) Tm\n\/F\d+ [\d.]+ Tf\n\[([^\]]*)\] TJ/g)) {
    const text = [...m[3]!.matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join('');
    if (text.startsWith(startsWith)) return { left: Number(m[1]) * mm, top: (841.89 - Number(m[2])) * mm };
  }
  return assert.fail(`no line starting with ${startsWith}`);
}

const pageCount = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g) ?? []).length;

async function manifestRows(path: string): Promise<Record<string, string>[]> {
  const rows: string[][] = [];
  for await (const records of readCsv([await readFile(path, 'utf8')])) for (const r of records) if (r.fields) rows.push(r.fields);
  const [header, ...body] = rows;
  assert.deepEqual(header, [...manifestColumns]);
  return body.map((fields) => Object.fromEntries(header!.map((h, i) => [h, fields[i]!])));
}

const address = (name: string, extra: Partial<PostalAddress> = {}): PostalAddress => ({ name, line1: 'ul. Marszałkowska 10/4', city: 'Warszawa', postalCode: '00-590', country: 'PL', ...extra });

function piece(key: string, payload: PrintPayload): OutgoingMessage<'print'> {
  return { id: `msg_${key}`, idempotencyKey: key, workspaceId: 'ws_test', channel: 'print', transactional: false, attempt: 1, payload };
}

const letter = (key: string, name: string, extra: Partial<PostalAddress> = {}) =>
  piece(key, {
    format: 'letter',
    address: address(name, extra),
    body: `<p>Dear ${name.split(' ')[0]},</p><p>Thank you for being with us for a <b>whole year</b>. As a thank-you, here is 15% off your next order with the code <strong>YEAR15</strong>.</p><h2>What is new</h2><p>Our autumn collection &amp; more.<img src="https://shop.example/x.png"></p><p>Warm regards,<br>The Shop team</p>`,
  });

const postcard = (key: string, name: string, extra: Partial<PostalAddress> = {}) =>
  piece(key, { format: 'postcard', address: address(name, extra), headline: 'We miss you!', body: `Hi ${name.split(' ')[0]},\n\nit has been a while. Come back for 20% off.\n\nSee you soon` });

describe('print provider', () => {
  let dir: string;
  // Friday afternoon in Warsaw; Monday 9 March is a holiday in this test, so mail goes on Tuesday.
  const clock = new VirtualClock('2026-03-06T15:00:00Z');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tend-print-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const fresh = async (env: Record<string, string> = {}) => {
    const d = await mkdtemp(join(dir, 'spool-'));
    const c = printConfigFromEnv({
      TEND_PRINT_DIR: d,
      TEND_PRINT_COMPRESS: 'false',
      TEND_PRINT_LETTER_CENTS: '145',
      TEND_PRINT_POSTCARD_CENTS: '95',
      TEND_PRINT_TIME_ZONE: 'Europe/Warsaw',
      TEND_PRINT_HOLIDAYS: '2026-03-09',
      TEND_PRINT_HOME_COUNTRY: 'PL',
      TEND_PRINT_RETURN_ADDRESS: 'Tend Shop · ul. Prosta 1 · 00-001 Warszawa',
      ...env,
    });
    assert.ok(c);

    return c;
  };

  it('writes a batch of 3 letters and 2 postcards: one PDF with a page per letter and two per postcard, and the manifest', async () => {
    const c = await fresh();
    const provider = createPrintProvider(c, { clock });
    const pieces = [
      letter('aaaa0001', 'Zoë Kowalska'),
      letter('aaaa0002', 'Jan Nowak', { line2: 'Klatka B' }),
      letter('aaaa0003', 'Anna Müller', { city: 'Berlin', postalCode: '10115', line1: 'Unter den Linden 5', country: 'DE' }),
      postcard('bbbb0001', 'Łukasz Wiśniewski'),
      postcard('bbbb0002', 'Emily Clark', { line1: '350 Fifth Avenue', city: 'New York', region: 'NY', postalCode: '10118', country: 'US' }),
    ];
    for (const p of pieces) {
      const r = await provider.send(p);
      assert.equal(r.status, 'accepted');
      assert.equal(r.status === 'accepted' && r.costCents, p.payload.format === 'letter' ? 145 : 95);
    }
    // A retry of a waiting piece is not added twice.
    const repeat = await provider.send(pieces[0]!);
    assert.match(repeat.status === 'accepted' ? String(repeat.detail) : '', /already waiting/);

    const batch = await provider.flush();
    assert.ok(batch);
    assert.deepEqual([batch.pieces, batch.pages, batch.mailingDate], [5, 7, '2026-03-10']);
    const pdf = await readFile(batch.pdfPath);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.equal(pageCount(pdf), 7);
    const text = pdfText(pdf);
    for (const shown of ['Zoë Kowalska', 'Jan Nowak', 'Klatka B', 'Anna Müller', 'Lukasz Wisniewski', 'Emily Clark', '00-590 Warszawa', '10115 Berlin', 'GERMANY', 'New York, NY 10118', 'UNITED STATES', 'We miss you!', 'YEAR15', 'The Shop team', '6 March 2026']) {
      assert.ok(text.includes(shown), `the PDF shows ${shown}`);
    }
    assert.ok(!text.includes('POLAND'), 'no country line for the home country');
    // DIN 5008 form B: the window of a DL envelope shows 20–110 mm from the left, 45–90 mm from the top.
    const name = textPosition(pdf, 'Jan Nowak');
    assert.ok(name.left >= 20 && name.left <= 30 && name.top >= 50 && name.top <= 70, JSON.stringify(name));
    const sender = textPosition(pdf, 'Tend Shop');
    assert.ok(sender.top >= 45 && sender.top < name.top, JSON.stringify(sender));

    const rows = await manifestRows(batch.manifestPath);
    assert.deepEqual(
      rows.map((r) => [r.piece_id, r.format, r.first_page, r.pages, r.name, r.postal_code, r.city, r.country, r.cost_cents, r.mailing_date, r.batch_id]),
      [
        ['aaaa0001', 'letter', '1', '1', 'Zoë Kowalska', '00-590', 'Warszawa', 'PL', '145', '2026-03-10', batch.batchId],
        ['aaaa0002', 'letter', '2', '1', 'Jan Nowak', '00-590', 'Warszawa', 'PL', '145', '2026-03-10', batch.batchId],
        ['aaaa0003', 'letter', '3', '1', 'Anna Müller', '10115', 'Berlin', 'DE', '145', '2026-03-10', batch.batchId],
        ['bbbb0001', 'postcard', '4', '2', 'Łukasz Wiśniewski', '00-590', 'Warszawa', 'PL', '95', '2026-03-10', batch.batchId],
        ['bbbb0002', 'postcard', '6', '2', 'Emily Clark', '10118', 'New York', 'US', '95', '2026-03-10', batch.batchId],
      ],
    );
    assert.equal(rows[1]!.address_line2, 'Klatka B');

    // Already batched: accepted, never added again, nothing left to flush.
    const again = await provider.send(pieces[3]!);
    assert.match(again.status === 'accepted' ? String(again.detail) : '', new RegExp(`already in batch ${batch.batchId}`));
    assert.equal(await provider.flush(), null);
    await provider.close();

    const index = await readFile(join(c.dir, 'batched-keys.txt'), 'utf8');
    assert.equal(index.trim().split('\n').length, 5);
    assert.deepEqual(await readdir(join(c.dir, 'pending')), []);

    // A restart reads the index: the piece is still known.
    const restarted = createPrintProvider(c, { clock });
    const afterRestart = await restarted.send(pieces[4]!);
    assert.match(afterRestart.status === 'accepted' ? String(afterRestart.detail) : '', /already in batch/);
    assert.equal(await restarted.flush(), null);
    await restarted.close();
  });

  it('keeps accepted pieces across a restart; two processes sharing the folder batch them once', async () => {
    const c = await fresh();
    const first = createPrintProvider(c, { clock });
    await first.send(letter('cccc0001', 'Jan Nowak'));
    // Stopped before any flush (no close): the piece waits in the spool.
    const second = createPrintProvider(c, { clock });
    const batch = await second.flush();
    assert.equal(batch?.pieces, 1);
    assert.equal(await first.flush(), null);
    await second.close();
  });

  it('indexes the newest manifest first when Tend stopped before indexing it', async () => {
    const c = await fresh();
    const provider = createPrintProvider(c, { clock });
    await provider.send(letter('dddd0001', 'Jan Nowak'));
    await provider.send(postcard('dddd0002', 'Anna Nowak'));
    const pendingBefore = await readdir(join(c.dir, 'pending'));
    const saved = await Promise.all(pendingBefore.map(async (f) => [f, await readFile(join(c.dir, 'pending', f))] as const));
    const batch = await provider.flush();
    await provider.close();
    // The crash: the manifest was renamed, but the index and the spool were not updated.
    await writeFile(join(c.dir, 'batched-keys.txt'), '');
    for (const [f, content] of saved) await writeFile(join(c.dir, 'pending', f), content);

    const restarted = createPrintProvider(c, { clock });
    assert.equal(await restarted.flush(), null, 'nothing is batched a second time');
    const retry = await restarted.send(letter('dddd0001', 'Jan Nowak'));
    assert.match(retry.status === 'accepted' ? String(retry.detail) : '', new RegExp(`already in batch ${batch!.batchId}`));
    await restarted.close();
  });

  it('leaves the batch to the process that holds the lock, and takes over a stale lock', async () => {
    const c = await fresh();
    const provider = createPrintProvider(c, { clock });
    await provider.send(letter('kkkk0001', 'Jan Nowak'));
    const lock = join(c.dir, 'flush.lock');
    await writeFile(lock, '4242 busy\n');
    assert.equal(await provider.flush(), null);
    const old = new Date(Date.now() - 31 * 60_000);
    await utimes(lock, old, old);
    assert.equal((await provider.flush())?.pieces, 1);
    await provider.close();
  });

  it('writes a batch by itself once batchSize pieces wait', async () => {
    const c = await fresh({ TEND_PRINT_BATCH_SIZE: '2' });
    const provider = createPrintProvider(c, { clock });
    await provider.send(letter('eeee0001', 'Jan Nowak'));
    assert.deepEqual((await readdir(join(c.dir, 'batches'))).filter((f) => f.endsWith('.pdf')), []);
    const second = await provider.send(letter('eeee0002', 'Anna Nowak'));
    assert.match(second.status === 'accepted' ? String(second.detail) : '', /in batch/);
    assert.equal((await readdir(join(c.dir, 'batches'))).filter((f) => f.endsWith('.pdf')).length, 1);
    await provider.close();
  });

  it('flushes what waits on close', async () => {
    const c = await fresh();
    const provider = createPrintProvider(c, { clock });
    await provider.send(postcard('ffff0001', 'Jan Nowak'));
    await provider.close();
    assert.equal((await readdir(join(c.dir, 'batches'))).filter((f) => f.endsWith('.csv')).length, 1);
  });

  describe('a vendor webhook', () => {
    type Seen = { headers: IncomingMessage['headers']; body: Buffer };
    const seen: Seen[] = [];
    let failNext = 0;
    let connections = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (ch: Buffer) => chunks.push(ch));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(failNext-- > 0 ? 503 : 201).end();
      });
    });
    server.on('connection', () => connections++);
    let url = '';
    before(async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/batches`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('gets each batch as multipart with its id as Idempotency-Key, again after a failure', async () => {
      const c = await fresh({ TEND_PRINT_VENDOR_URL: url, TEND_PRINT_VENDOR_TOKEN: 'vendor-secret', TEND_PRINT_ALLOW_PRIVATE: 'true' });
      const provider = createPrintProvider(c, { clock });
      failNext = 1;
      await provider.send(letter('gggg0001', 'Jan Nowak'));
      const failed = await provider.flush();
      assert.deepEqual([failed?.delivered, /503/.test(String(failed?.error))], [false, true]);
      assert.equal((await readdir(join(c.dir, 'batches'))).some((f) => f.endsWith('.sent')), false);

      clock.advance(60_000);
      await provider.send(letter('gggg0002', 'Anna Nowak'));
      const next = await provider.flush();
      assert.equal(next?.delivered, true);
      const ids = seen.slice(-2).map((s) => s.headers['idempotency-key']);
      assert.deepEqual(ids, [failed!.batchId, next!.batchId].sort(), 'the failed batch is sent again, before the new one');
      const last = seen.at(-1)!;
      assert.equal(last.headers.authorization, 'Bearer vendor-secret');
      const boundary = /boundary=(.+)$/.exec(String(last.headers['content-type']))![1]!;
      const body = last.body.toString('latin1');
      assert.match(body, new RegExp(`--${boundary}\\r\\nContent-Disposition: form-data; name="batch_id"\\r\\n\\r\\n${next!.batchId}\\r\\n`));
      assert.match(body, /name="manifest"; filename="[^"]+\.csv"\r\nContent-Type: text\/csv\r\n\r\nbatch_id,piece_id,/);
      assert.match(body, /name="pdf"; filename="[^"]+\.pdf"\r\nContent-Type: application\/pdf\r\n\r\n%PDF-/);
      assert.ok(body.endsWith(`--${boundary}--\r\n`));
      assert.equal((await readdir(join(c.dir, 'batches'))).filter((f) => f.endsWith('.sent')).length, 2);
      await provider.close();
    });

    it('is refused on 127.0.0.1 by default, without connecting; the batch stays in the folder', async () => {
      const c = await fresh({ TEND_PRINT_VENDOR_URL: url });
      const provider = createPrintProvider(c, { clock });
      const before = connections;
      await provider.send(letter('hhhh0001', 'Jan Nowak'));
      const batch = await provider.flush();
      assert.deepEqual([batch?.delivered, /refused/.test(String(batch?.error))], [false, true]);
      assert.equal(connections, before);
      assert.ok((await readFile(batch!.pdfPath)).length > 0);
      await provider.close();
    });
  });
});

describe('print rendering and rules', () => {
  it('reads simple HTML and plain text bodies into paragraphs with bold runs', () => {
    assert.deepEqual(parseBody('<h1>Hello</h1><p>Dear <b>Zoë</b> &amp; co,<br/>thanks.</p><!-- x --><img src="a.png"><ul><li>One</li></ul>'), [
      { heading: true, runs: [{ text: 'Hello', bold: false }] },
      { heading: false, runs: [{ text: 'Dear ', bold: false }, { text: 'Zoë', bold: true }, { text: ' & co,', bold: false }, { text: '\n', bold: false }, { text: 'thanks.', bold: false }] },
      { heading: false, runs: [{ text: '• ', bold: false }, { text: 'One', bold: false }] },
    ]);
    assert.deepEqual(parseBody('Hi Jan,\n\nsee you.\nThe team'), [
      { heading: false, runs: [{ text: 'Hi Jan,', bold: false }] },
      { heading: false, runs: [{ text: 'see you.\nThe team', bold: false }] },
    ]);
  });

  it('keeps Western European letters and simplifies the rest for the built-in font', () => {
    assert.equal(toWinAnsi('Zoë Müller – “Straße” €5'), 'Zoë Müller – “Straße” €5');
    assert.equal(toWinAnsi('Łukasz Wiśniewski, Dvořák, 漢'), 'Lukasz Wisniewski, Dvorák, ?');
  });

  it('writes addresses the way the destination country expects', () => {
    assert.deepEqual(addressLines({ name: 'Emily Clark', line1: '350 Fifth Avenue', city: 'New York', region: 'NY', postalCode: '10118', country: 'us' }, 'PL'), ['Emily Clark', '350 Fifth Avenue', 'New York, NY 10118', 'UNITED STATES']);
    assert.deepEqual(addressLines({ name: 'Tom Smith', line1: '10 Downing Street', city: 'London', postalCode: 'SW1A 2AA', country: 'GB' }, 'GB'), ['Tom Smith', '10 Downing Street', 'LONDON', 'SW1A 2AA']);
    assert.deepEqual(addressLines({ name: 'Anna Müller', line1: 'Unter den Linden 5', city: 'Berlin', postalCode: '10115', country: 'DE' }), ['Anna Müller', 'Unter den Linden 5', '10115 Berlin', 'GERMANY']);
  });

  it('mails on the next business day, skipping weekends and holidays, in the configured zone', () => {
    assert.equal(nextMailingDay(new Date('2026-03-02T10:00:00Z'), 'UTC'), '2026-03-03');
    assert.equal(nextMailingDay(new Date('2026-03-06T10:00:00Z'), 'UTC'), '2026-03-09');
    assert.equal(nextMailingDay(new Date('2026-03-06T10:00:00Z'), 'UTC', ['2026-03-09']), '2026-03-10');
    // 23:30 UTC on Thursday is already Friday in Warsaw.
    assert.equal(nextMailingDay(new Date('2026-03-05T23:30:00Z'), 'Europe/Warsaw'), '2026-03-09');
    assert.equal(nextMailingDay(new Date('2026-03-05T23:30:00Z'), 'UTC'), '2026-03-06');
  });

  it('reads vendor status events', () => {
    const r = parsePrintEvents({ events: [
      { piece_id: 'aaaa0001', status: 'mailed' },
      { piece_id: 'aaaa0002', status: 'delivered', occurred_at: '2026-03-12T09:00:00+01:00' },
      { piece_id: 'aaaa0003', status: 'returned', reason: 'addressee unknown' },
      { piece_id: 'aaaa0004', status: 'failed', reason: 'damaged in production' },
    ] });
    assert.ok(r.ok);
    assert.deepEqual(r.value.map((x) => [x.type, x.idempotencyKey, x.hard, x.reason, x.occurredAt]), [
      ['delivered', 'aaaa0002', undefined, undefined, '2026-03-12T08:00:00.000Z'],
      ['bounced', 'aaaa0003', true, 'addressee unknown', undefined],
      ['failed', 'aaaa0004', undefined, 'damaged in production', undefined],
    ]);
    assert.equal(parsePrintEvents({ events: [{ piece_id: 'x', status: 'lost' }] }).ok, false);
  });

  it('names the configuration variable that is wrong', () => {
    assert.equal(printConfigFromEnv({}), undefined);
    assert.throws(() => printConfigFromEnv({ TEND_PRINT_VENDOR_URL: 'https://print.example/in' }), /TEND_PRINT_DIR is required/);
    assert.throws(() => printConfigFromEnv({ TEND_PRINT_DIR: '/tmp/x', TEND_PRINT_LETTER_CENTS: 'cheap' }), /TEND_PRINT_LETTER_CENTS is not valid/);
    assert.throws(() => printConfigFromEnv({ TEND_PRINT_DIR: '/tmp/x', TEND_PRINT_TIME_ZONE: 'Mars/Olympus' }), /TEND_PRINT_TIME_ZONE is not valid/);
    assert.throws(() => printConfigFromEnv({ TEND_PRINT_DIR: '/tmp/x', TEND_PRINT_HOLIDAYS: '25.12.2026' }), /TEND_PRINT_HOLIDAYS is not valid/);
    assert.throws(() => printConfigFromEnv({ TEND_PRINT_DIR: '/tmp/x', TEND_PRINT_PAGE_SIZE: 'A5' }), /TEND_PRINT_PAGE_SIZE is not valid/);
  });
});
