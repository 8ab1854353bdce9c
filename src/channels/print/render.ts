/**
 * Letters and postcards as PDF pages. A letter is one page (more if its text runs over) with the
 * address where a window envelope shows it: DIN 5008 form B on A4 (20 mm from the left, 45 mm from
 * the top, fold marks at 105 and 210 mm), or 1 in from the left and 2⅛ in from the top on US Letter
 * for a #10 window envelope. A postcard is two pages: the headline on the front; the message, the
 * address and a stamp box on the back.
 */
import type { PostalAddress, PrintPayload } from '../port.ts';
import type { PrintConfig } from './config.ts';

const MM = 72 / 25.4;
const IN = 72;

type Run = { text: string; bold: boolean };
export type Block = { heading: boolean; runs: Run[] };

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
    }
    return entities[e.toLowerCase()] ?? m;
  });

/**
 * The rendered body ("simple HTML-ish text") as blocks of bold and regular runs. With block tags
 * (p, h1–h6, div, li, br) whitespace collapses as in HTML; plain text keeps its line breaks and a
 * blank line starts a paragraph. Other tags, images included, are dropped.
 */
export function parseBody(body: string): Block[] {
  const html = /<\s*(p|br|h[1-6]|div|li)\b/i.test(body);
  const blocks: Block[] = [];
  let current: Block | null = null;
  let bold = 0;
  const open = (heading: boolean) => {
    if (current && current.runs.some((r) => r.text.trim())) blocks.push(current);
    current = { heading, runs: [] };
  };
  const add = (text: string) => {
    if (!text) return;
    if (!current) current = { heading: false, runs: [] };
    current.runs.push({ text, bold: bold > 0 });
  };
  const addText = (raw: string) => {
    if (html) return add(decode(raw.replace(/\s+/g, ' ')));
    const paragraphs = raw.split(/\r?\n[ \t]*\r?\n/);
    paragraphs.forEach((p, i) => {
      if (i > 0) open(false);
      add(decode(p.replace(/\r\n/g, '\n')));
    });
  };
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    addText(body.slice(last, m.index));
    last = m.index + m[0].length;
    const name = m[2]?.toLowerCase();
    if (!name) continue;
    const closing = m[1] === '/';
    if (name === 'b' || name === 'strong') bold = Math.max(0, bold + (closing ? -1 : 1));
    else if (name === 'br') add('\n');
    else if (/^(p|div|h[1-6]|li)$/.test(name)) {
      open(!closing && name.startsWith('h'));
      if (!closing && name === 'li') add('• ');
    }
  }
  addText(body.slice(last));
  open(false);
  // Trim each block's edges (HTML whitespace next to tags), keeping inner spacing.
  for (const b of blocks) {
    const first = b.runs[0];
    const lastRun = b.runs[b.runs.length - 1];
    if (first) first.text = first.text.replace(/^[ \t]+/, '');
    if (lastRun) lastRun.text = lastRun.text.replace(/[ \t]+$/, '');
    for (const r of b.runs) r.text = r.text.replace(/ *\n */g, '\n');
  }
  return blocks;
}

/** Characters the built-in Helvetica can show (Windows-1252): others lose their accents, or become "?". */
const winAnsiExtras = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const fallbacks: Record<string, string> = { Ł: 'L', ł: 'l', Đ: 'D', đ: 'd', ı: 'i', Ħ: 'H', ħ: 'h', '‐': '-', '−': '-' };
export function toWinAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if ((code < 0x80 || (code >= 0xa0 && code <= 0xff)) || winAnsiExtras.has(ch) || ch === '\n') {
      out += ch;
      continue;
    }
    const bare = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    out += bare.length === 1 && bare.charCodeAt(0) < 0x100 ? bare : (fallbacks[ch] ?? '?');
  }
  return out;
}

/** Address lines in the order the destination country's post expects. */
export function addressLines(a: PostalAddress, homeCountry?: string): string[] {
  const country = a.country.trim().toUpperCase();
  const lines = [a.name, a.line1, a.line2].filter((l): l is string => Boolean(l && l.trim()));
  if (['US', 'CA', 'AU'].includes(country)) lines.push(`${a.city}${country === 'AU' ? '' : ','} ${a.region ?? ''} ${a.postalCode}`.replace(/\s+/g, ' ').trim());
  else if (['GB', 'IE'].includes(country)) lines.push(a.city.toUpperCase(), a.postalCode);
  else lines.push(`${a.postalCode} ${a.city}`.trim(), ...(a.region ? [a.region] : []));
  if (!homeCountry || homeCountry !== country) lines.push(countryName(country));
  return lines;
}

function countryName(code: string): string {
  try {
    return (new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code).toUpperCase();
  } catch {
    return code;
  }
}

export type Piece = { id: string; payload: PrintPayload };
export type RenderedBatch = { pdf: Buffer; pages: { first: number; count: number }[] };
export type RenderOptions = Pick<PrintConfig, 'pageSize' | 'returnAddress' | 'homeCountry' | 'fontPath' | 'boldFontPath' | 'compress' | 'locale' | 'timeZone'> & { now: Date; title: string };

/** One PDF for a batch, with the page range of each piece. */
export async function renderBatch(pieces: Piece[], o: RenderOptions): Promise<RenderedBatch> {
  const us = o.pageSize === 'LETTER';
  const letterSize: [number, number] = us ? [8.5 * IN, 11 * IN] : [210 * MM, 297 * MM];
  const cardSize: [number, number] = us ? [6 * IN, 4 * IN] : [148 * MM, 105 * MM];
  const margins = us ? { top: 0.75 * IN, bottom: 0.75 * IN, left: 1 * IN, right: 0.75 * IN } : { top: 20 * MM, bottom: 20 * MM, left: 25 * MM, right: 20 * MM };
  // PDFKit (30 MB of memory once loaded) is loaded by the first print batch, not by every process.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ autoFirstPage: false, compress: o.compress, size: letterSize, margins, info: { Title: o.title, Producer: 'Tend', Creator: 'Tend', CreationDate: o.now } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  const regular = o.fontPath ? 'TendRegular' : 'Helvetica';
  const bold = o.fontPath ? 'TendBold' : 'Helvetica-Bold';
  if (o.fontPath) {
    doc.registerFont('TendRegular', o.fontPath);
    doc.registerFont('TendBold', o.boldFontPath ?? o.fontPath);
  }
  const t = (s: string) => (o.fontPath ? s : toWinAnsi(s));
  let pageCount = 0;
  doc.on('pageAdded', () => pageCount++);
  const date = new Intl.DateTimeFormat(o.locale, { dateStyle: 'long', timeZone: o.timeZone }).format(o.now);

  /** Writes the blocks from the current position; with `bottom`, text stops there (a postcard has no second page). */
  const writeBlocks = (blocks: Block[], width: number, size: number, bottom?: number) => {
    for (const [i, block] of blocks.entries()) {
      const fontSize = block.heading ? size * 1.3 : size;
      for (const [j, run] of block.runs.entries()) {
        const room = bottom === undefined ? undefined : bottom - doc.y;
        if (room !== undefined && room < fontSize) return;
        const last = j === block.runs.length - 1;
        doc.font(run.bold || block.heading ? bold : regular).fontSize(fontSize).text(t(run.text), { width, continued: !last, lineGap: 1.5, ...(room !== undefined ? { height: room, ellipsis: true } : {}) });
      }
      if (i < blocks.length - 1) doc.moveDown(0.6);
    }
  };

  const addressBlock = (a: PostalAddress, x: number, y: number, width: number, size: number) => {
    doc.font(regular).fontSize(size).text(t(addressLines(a, o.homeCountry).join('\n')), x, y, { width, lineGap: 1 });
  };

  const letter = (p: PrintPayload) => {
    doc.addPage({ size: letterSize, margins });
    const [w] = letterSize;
    // Fold marks, so the address lands in the window after folding.
    const folds = us ? [11 / 3, 22 / 3].map((v) => v * IN) : [105 * MM, 210 * MM];
    for (const y of folds) doc.moveTo(5 * MM, y).lineTo(9 * MM, y).lineWidth(0.3).stroke('#888888');
    const left = us ? 1 * IN : 25 * MM;
    const windowTop = us ? 2.125 * IN : 45 * MM;
    if (o.returnAddress) {
      doc.font(regular).fontSize(7).fillColor('#444444').text(t(o.returnAddress), left, windowTop + 2 * MM, { width: us ? 3.5 * IN : 80 * MM, lineBreak: false, ellipsis: true });
      doc.fillColor('black');
    }
    addressBlock(p.address, left, windowTop + (us ? 0.25 * IN : 12.7 * MM), us ? 3.5 * IN : 80 * MM, 10);
    const textWidth = w - margins.left - margins.right;
    doc.font(regular).fontSize(10).text(t(date), margins.left, us ? 3.75 * IN : 98 * MM, { width: textWidth, align: 'right' });
    doc.x = margins.left;
    doc.y = us ? 4.25 * IN : 110 * MM;
    writeBlocks(parseBody(p.body), textWidth, 11);
  };

  const postcard = (p: PrintPayload) => {
    const [w, h] = cardSize;
    const pad = us ? 0.25 * IN : 6 * MM;
    doc.addPage({ size: cardSize, margin: pad });
    doc.font(bold).fontSize(24).text(t(p.headline ?? ''), pad, pad, { width: w - 2 * pad, height: h - 2 * pad, align: 'center', ellipsis: true });
    doc.addPage({ size: cardSize, margin: pad });
    const half = w / 2;
    doc.moveTo(half, pad).lineTo(half, h - pad).lineWidth(0.5).stroke('#888888');
    doc.x = pad;
    doc.y = pad;
    writeBlocks(parseBody(p.body), half - 2 * pad, 9, h - pad);
    // The stamp (or franking) box, top right, and the address below it.
    const stampW = us ? 0.9 * IN : 20 * MM;
    const stampH = us ? 1 * IN : 24 * MM;
    doc.rect(w - pad - stampW, pad, stampW, stampH).lineWidth(0.5).stroke('#888888');
    addressBlock(p.address, half + pad, h / 2, half - 2 * pad, 9);
  };

  const pages: RenderedBatch['pages'] = [];
  for (const piece of pieces) {
    const first = pageCount + 1;
    if (piece.payload.format === 'letter') letter(piece.payload);
    else postcard(piece.payload);
    pages.push({ first, count: pageCount - first + 1 });
  }
  doc.end();
  await finished;
  return { pdf: Buffer.concat(chunks), pages };
}
