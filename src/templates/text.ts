import type { RenderContext } from './context.ts';
import { parse, renderParsed, textEngine } from './engine.ts';

/** A compiled plain-text template: SMS bodies, push titles and bodies, print pieces. */
export type CompiledText = {
  /** Renders for one contact; throws TemplateError when a limit is hit. */
  render(context: RenderContext): string;
};

/** Parses a text template once (throws TemplateError with line and column); outputs are not escaped. */
export function compileText(source: string, field?: string): CompiledText {
  const template = parse(textEngine, source, field);
  return { render: (context) => renderParsed(textEngine, template, context, field) };
}

// GSM 03.38: the default alphabet (one septet each) and its extension table (an escape plus one
// septet, so two). Anything else forces the whole message into UCS-2.
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

export type SmsSegments = {
  encoding: 'GSM-7' | 'UCS-2';
  /** Parts the carrier bills: 1 up to 160 GSM-7 septets or 70 UCS-2 units, then 153 and 67 per part. */
  segments: number;
  /** Length as the carrier counts it: septets for GSM-7 (extension characters count 2), UTF-16 units for UCS-2. */
  characters: number;
  /** What one part holds at this length (160/153 or 70/67). */
  perSegment: number;
};

/** How a text is encoded and how many SMS parts it takes. An empty text takes none. */
export function smsSegments(text: string): SmsSegments {
  const chars = Array.from(text);
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  // Cost of each character in the unit the encoding counts.
  const costs = gsm ? chars.map((c) => (GSM_EXTENSION.has(c) ? 2 : 1)) : chars.map((c) => c.length);
  const characters = costs.reduce((a, b) => a + b, 0);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  if (characters <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments: characters === 0 ? 0 : 1, characters, perSegment: single };
  // In a concatenated message an escape pair or a surrogate pair never straddles two parts, so
  // parts are filled character by character rather than by dividing the length.
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments, characters, perSegment: multi };
}
