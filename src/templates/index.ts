/**
 * Message templates: Liquid (sandboxed, limited) in MJML or HTML email bodies, subjects, SMS and
 * push texts; validated at publish time and compiled once per template version.
 */
export { contextShape, sampleContext, type ContactVars, type ItemVars, type RenderContext, type Shape } from './context.ts';
export { compileEmail, type CompiledEmail, type EmailTemplate, type RenderedEmail } from './email.ts';
export { MEMORY_LIMIT, PARSE_LIMIT, RENDER_LIMIT_MS, TemplateError, describe as describeProblem, type TemplateProblem } from './engine.ts';
export { compileText, smsSegments, type CompiledText, type SmsSegments } from './text.ts';
export { validateEmail, validateTemplate, type TemplateKind } from './validate.ts';
