import { randomBytes } from 'node:crypto';
import { TokenKind, Tokenizer, type TopLevelToken } from 'liquidjs';
import type { Engine } from './engine.ts';

/**
 * Liquid hidden from MJML and html-to-text, so that both run once per template version instead of
 * once per message. Every Liquid tag and output becomes an inert placeholder (`tlq<nonce>x<n>x`:
 * letters and digits survive attributes, CSS inlining and text conversion), and comes back
 * unchanged afterwards.
 *
 * MJML drops text that stands between its elements, which is where loops over sections or columns
 * sit: `<mj-column>{% for item in cart.items %}<mj-text>…`. In MJML mode such placeholders are
 * wrapped in `<mj-raw>`, which MJML copies through at that point of the layout, so the loop ends up
 * around the table rows it was written around. Liquid before `<mj-body>` or after `</mj-body>`
 * (outside any element that renders) moves to the start or end of the output instead.
 */

/** MJML elements whose content is copied through, not parsed as MJML (mjml 5's `endingTag`s). */
const ENDING_TAGS = new Set([
  'mj-text', 'mj-button', 'mj-raw', 'mj-table', 'mj-navbar-link', 'mj-accordion-title', 'mj-accordion-text',
  'mj-social-element', 'mj-carousel-image', 'mj-style', 'mj-title', 'mj-preview', 'mj-breakpoint',
]);

export type LiquidToken = { text: string; control: boolean; line: number; column: number };

export type Protected = {
  /** The source with placeholders in place of Liquid. */
  source: string;
  /** Liquid that sat outside the MJML body, to put before and after the compiled HTML. */
  prefix: string;
  suffix: string;
  tokens: LiquidToken[];
  /** Indexes of the tokens left in `source` (not moved to prefix or suffix). */
  placed: number[];
  /** The placeholder pattern (global, case-insensitive): group 1 is the token's index. */
  pattern: RegExp;
  /** The source line that a line of `source` came from (tokens may span lines). */
  originalLine(line: number): number;
};

type Mode = 'text' | 'tag' | 'quoted' | 'comment' | 'ending';
type Scan = { mode: Mode; quote: string; name: string; closing: boolean; last: string; stack: string[]; ending: string; bodySeen: boolean };

/** Replaces the Liquid in `source` by placeholders; `mjml` also wraps those between elements in mj-raw. */
export function protectLiquid(engine: Engine, source: string, kind: 'mjml' | 'html'): Protected {
  const nonce = randomBytes(4).toString('hex');
  const tokens: LiquidToken[] = [];
  const placed: number[] = [];
  const scan: Scan = { mode: 'text', quote: '', name: '', closing: false, last: '', stack: [], ending: '', bodySeen: false };
  let out = '';
  let prefix = '';
  let suffix = '';
  // [line in `out` where a token was removed, newlines it held] to map MJML's line numbers back.
  const removed: [number, number][] = [];
  let outLine = 1;
  for (const token of new Tokenizer(source, engine.options.operators).readTopLevelTokens(engine.options) as TopLevelToken[]) {
    const text = source.slice(token.begin, token.end);
    if (token.kind === TokenKind.HTML) {
      if (kind === 'mjml') advance(scan, text);
      out += text;
      outLine += newlines(text);
      continue;
    }
    const [line = 1, column = 1] = token.getPosition();
    const index = tokens.push({ text, control: token.kind === TokenKind.Tag, line, column }) - 1;
    const placeholder = `tlq${nonce}x${index}x`;
    if (newlines(text) > 0) removed.push([outLine, newlines(text)]);
    const outside = kind === 'mjml' && scan.mode === 'text' && (scan.stack.length === 0 || scan.stack.at(-1) === 'mjml');
    if (outside && scan.bodySeen) suffix += text;
    else if (outside) prefix += text;
    else {
      placed.push(index);
      out += kind === 'mjml' && scan.mode === 'text' ? `<mj-raw>${placeholder}</mj-raw>` : placeholder;
    }
  }
  return {
    source: out,
    prefix,
    suffix,
    tokens,
    placed,
    pattern: new RegExp(`tlq${nonce}x(\\d+)x`, 'gi'),
    originalLine: (line) => line + removed.reduce((sum, [at, n]) => (at < line ? sum + n : sum), 0),
  };
}

/** Puts the Liquid back into text that came out of MJML or html-to-text. */
export function restoreLiquid(p: Protected, text: string): string {
  return text.replace(p.pattern, (_, i: string) => p.tokens[Number(i)]!.text);
}

/**
 * How often each placed token's placeholder occurs in `output`. Outputs may repeat (MJML writes a
 * background URL into VML too); a control tag must occur exactly once or the template's structure
 * is lost.
 */
export function placeholderCounts(p: Protected, output: string): Map<number, number> {
  const counts = new Map<number, number>(p.placed.map((i) => [i, 0]));
  for (const m of output.matchAll(p.pattern)) {
    const i = Number(m[1]);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Follows MJML markup far enough to know whether the next Liquid token sits between elements. */
function advance(s: Scan, text: string): void {
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    switch (s.mode) {
      case 'text': {
        const lt = text.indexOf('<', i);
        if (lt === -1) return;
        if (text.startsWith('<!--', lt)) {
          s.mode = 'comment';
          i = lt + 4;
          break;
        }
        const m = /^<(\/?)([A-Za-z][\w:-]*)/.exec(text.slice(lt, lt + 80));
        if (!m) {
          i = lt + 1;
          break;
        }
        s.mode = 'tag';
        s.closing = m[1] === '/';
        s.name = m[2]!.toLowerCase();
        s.last = '';
        i = lt + m[0].length;
        break;
      }
      case 'tag':
        if (c === '"' || c === "'") {
          s.mode = 'quoted';
          s.quote = c;
        } else if (c === '>') endTag(s);
        else if (!/\s/.test(c)) s.last = c;
        i++;
        break;
      case 'quoted':
        if (c === s.quote) s.mode = 'tag';
        i++;
        break;
      case 'comment': {
        const end = text.indexOf('-->', i);
        if (end === -1) return;
        s.mode = 'text';
        i = end + 3;
        break;
      }
      case 'ending': {
        const close = text.toLowerCase().indexOf(`</${s.ending}`, i);
        if (close === -1) return;
        s.mode = 'tag';
        s.closing = true;
        s.name = s.ending;
        i = close + 2 + s.ending.length;
        break;
      }
    }
  }
}

function endTag(s: Scan): void {
  s.mode = 'text';
  if (s.closing) {
    const at = s.stack.lastIndexOf(s.name);
    if (at !== -1) s.stack.length = at;
    if (s.name === 'mj-body') s.bodySeen = true; // Liquid after the body goes after the HTML too
    return;
  }
  if (s.last === '/') return; // self-closing
  s.stack.push(s.name);
  if (s.name === 'mj-body') s.bodySeen = true;
  if (ENDING_TAGS.has(s.name)) {
    s.mode = 'ending';
    s.ending = s.name;
  }
}
