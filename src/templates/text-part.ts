import { createRequire } from 'node:module';
import type { compile as compileFn } from 'html-to-text';
import { placeholderCounts, restoreLiquid, type Protected } from './protect.ts';

/**
 * The plain-text part of an email, generated from its HTML. A full html-to-text pass costs about
 * 0.4 ms for a typical MJML email, as much as the whole per-message budget, so it runs once per
 * template version on the HTML with its Liquid still hidden; the result is a Liquid text template
 * rendered per message like the subject. Only when that cannot be trusted (the conversion lost or
 * repeated a Liquid tag, or produced literal `{{` of its own) is each rendered HTML converted.
 */

/** Preview (preheader) text is hidden in the HTML and not part of the text; images are noise. */
const options = {
  wordwrap: false as const,
  selectors: [
    { selector: 'div[style*="display:none"]', format: 'skip' },
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    // Uppercasing would also uppercase the placeholders (and the contact's name).
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', options: { uppercaseHeaderCells: false } },
  ],
};
// html-to-text is loaded with the first conversion, not by every process that imports Tend.
let converter: ((html: string) => string) | undefined;
export function htmlToText(html: string): string {
  converter ??= (createRequire(import.meta.url)('html-to-text') as { compile: typeof compileFn }).compile(options);
  return converter(html);
}

/** A Liquid text template made from HTML whose Liquid is still hidden, or undefined if unsafe. */
export function textTemplateFromHtml(p: Protected, protectedHtml: string): string | undefined {
  const text = htmlToText(protectedHtml);
  if (/\{\{|\{%/.test(text)) return undefined;
  for (const [i, count] of placeholderCounts(p, text)) {
    if (p.tokens[i]!.control && count !== 1) return undefined;
  }
  return p.prefix + restoreLiquid(p, ownLinesDropped(p, text)) + p.suffix;
}

/**
 * A line holding only control tags (`{% for %}`, `{% endif %}`) would leave an empty line in every
 * loop iteration; the tags keep their place but give their line back.
 */
function ownLinesDropped(p: Protected, text: string): string {
  const line = new RegExp(`^[ \\t]*((?:${p.pattern.source}[ \\t]*)+)\\n`, 'gim');
  return text.replace(line, (whole, tags: string) => {
    const all = [...tags.matchAll(p.pattern)].every((m) => p.tokens[Number(m[1])]!.control);
    return all ? tags.trim() : whole;
  });
}

/**
 * Tidies a rendered text part: loops and conditions leave blank lines and trailing spaces where
 * their tags stood.
 */
export function tidyText(text: string): string {
  return text.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim();
}
