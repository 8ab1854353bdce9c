import { TokenKind, Tokenizer } from 'liquidjs';
import type { RenderContext } from './context.ts';
import { htmlEngine, parse, renderParsed, TemplateError, textEngine, type Engine } from './engine.ts';
import { compileMjml } from './mjml.ts';
import { protectLiquid } from './protect.ts';
import { htmlToText, textTemplateFromHtml, tidyText } from './text-part.ts';

/**
 * Email templates: compiled once per template version (MJML, text-part generation, parsing), then
 * rendered per contact with Liquid only. See docs/templates.md for the rules a template follows.
 */

/** An email as a marketer writes it: MJML or HTML, Liquid anywhere. */
export type EmailTemplate = {
  subject: string;
  /** The preview line inbox lists show after the subject. */
  preheader?: string;
  mjml?: string;
  html?: string;
  /** The plain-text part; generated from the HTML when absent. */
  text?: string;
};

export type RenderedEmail = { subject: string; html: string; text: string };

export type CompiledEmail = {
  /** Renders one contact's email; throws TemplateError when a limit is hit. */
  render(context: RenderContext): RenderedEmail;
  /** The HTML template (MJML already applied, Liquid intact). */
  readonly html: string;
  /** Where the text part comes from: the author, a template made from the HTML, or a per-message conversion. */
  readonly textFrom: 'author' | 'html-template' | 'html-per-message';
};

/**
 * Compiles an email template. Throws TemplateError (with lines) when the Liquid does not parse or
 * MJML rejects the document; `validateEmail` reports the same and more at publish time.
 */
export async function compileEmail(template: EmailTemplate): Promise<CompiledEmail> {
  const body = template.mjml ?? template.html;
  if (body === undefined || (template.mjml !== undefined && template.html !== undefined)) {
    throw new TemplateError([{ message: 'give either mjml or html', line: 1, column: 1, field: 'mjml' }]);
  }
  const field = template.mjml !== undefined ? 'mjml' : 'html';
  const subject = parse(textEngine, template.subject, 'subject');
  if (template.preheader !== undefined) parse(htmlEngine, template.preheader, 'preheader');
  parse(htmlEngine, body, field);
  const source = template.preheader ? withPreheader(body, template.preheader, field) : body;

  let html: string;
  let textSource: string | undefined;
  if (field === 'mjml') {
    const out = await compileMjml(htmlEngine, source, field);
    if (out.problems.length > 0) throw new TemplateError(out.problems);
    html = out.html;
    textSource = template.text === undefined ? textTemplateFromHtml(out.protected, out.protectedHtml) : undefined;
  } else {
    html = source;
    const p = protectLiquid(htmlEngine, source, 'html');
    textSource = template.text === undefined ? textTemplateFromHtml(p, p.source) : undefined;
  }
  const htmlTemplate = parse(htmlEngine, html, field);
  const textTemplate = template.text !== undefined ? parse(textEngine, template.text, 'text') : textSource !== undefined ? tryParse(textEngine, textSource) : undefined;
  const textFrom = template.text !== undefined ? 'author' : textTemplate ? 'html-template' : 'html-per-message';

  return {
    html,
    textFrom,
    render(context) {
      const renderedHtml = renderParsed(htmlEngine, htmlTemplate, context, field);
      const text = textTemplate ? renderParsed(textEngine, textTemplate, context, 'text') : htmlToText(renderedHtml);
      return {
        // One line: a value with a line break must never start a new mail header.
        subject: renderParsed(textEngine, subject, context, 'subject').replace(/\s+/g, ' ').trim(),
        html: renderedHtml,
        text: tidyText(text),
      };
    },
  };
}

function tryParse(engine: Engine, source: string) {
  try {
    return engine.parse(source);
  } catch {
    return undefined;
  }
}

/** Hidden preview text, styled as MJML writes it so the text part skips it alike. */
export const PREVIEW_STYLE = 'display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;opacity:0;overflow:hidden;';

/**
 * Puts the preheader into the body, so it renders (escaped) in the same pass. It stays on the line
 * it is inserted at, so MJML's line numbers still match the author's source.
 */
export function withPreheader(body: string, preheader: string, kind: 'mjml' | 'html'): string {
  const text = escapeLiteral(preheader.replace(/\s+/g, ' '));
  if (kind === 'mjml') {
    const head = /<mj-head\b[^>]*>/i.exec(body);
    if (head) return insertAt(body, head.index + head[0].length, `<mj-preview>${text}</mj-preview>`);
    const root = /<mjml\b[^>]*>/i.exec(body);
    if (root) return insertAt(body, root.index + root[0].length, `<mj-head><mj-preview>${text}</mj-preview></mj-head>`);
    return body;
  }
  const div = `<div style="${PREVIEW_STYLE}">${text}</div>`;
  const open = /<body\b[^>]*>/i.exec(body);
  return open ? insertAt(body, open.index + open[0].length, div) : div + body;
}

function insertAt(s: string, at: number, insert: string): string {
  return s.slice(0, at) + insert + s.slice(at);
}

/** Escapes a template's literal text for HTML and leaves its Liquid for the render to escape. */
function escapeLiteral(source: string): string {
  let out = '';
  for (const token of new Tokenizer(source, htmlEngine.options.operators).readTopLevelTokens(htmlEngine.options)) {
    const text = source.slice(token.begin, token.end);
    out += token.kind === TokenKind.HTML ? escape(text) : text;
  }
  return out;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
}
