import { z } from 'zod';
import { ConfigError } from '../../config.ts';

const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates as YYYY-MM-DD');

/** Personalised print: batches of letters and postcards as PDF plus a manifest for the print vendor. */
export const PrintConfig = z.object({
  /** The spool: accepted pieces, written batches, and the index of pieces already batched. */
  dir: z.string().min(1),
  /** Where each batch is also POSTed (multipart/form-data: batch_id, manifest, pdf). */
  vendorUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL').optional(),
  vendorToken: z.string().min(1).optional(),
  allowPrivate: flag,
  letterCents: z.coerce.number().int().min(0),
  postcardCents: z.coerce.number().int().min(0),
  /** A batch is written once this many pieces wait … */
  batchSize: z.coerce.number().int().min(1).max(100_000),
  /** … or when the oldest waiting piece has waited this long. */
  batchMaxWaitMinutes: z.coerce.number().min(0.01).max(7 * 24 * 60),
  /** A4 letters with A6 postcards (DIN 5008 window), or US Letter with 6×4 in postcards (#10 window). */
  pageSize: z.enum(['A4', 'LETTER']),
  /** The sender line above the recipient in the envelope window. */
  returnAddress: z.string().max(120).optional(),
  /** ISO country code of the sender: pieces to it omit the country line. */
  homeCountry: z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code').optional(),
  /** Days the vendor does not mail, besides weekends. */
  holidays: z.array(isoDate),
  /** The zone that decides "today" for the letter's date and the mailing day. */
  timeZone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Warsaw'),
  /** Locale of the date printed on letters. */
  locale: z.string().min(2),
  /** A TrueType font for letters outside Western European ones (the built-in Helvetica has only those). */
  fontPath: z.string().min(1).optional(),
  boldFontPath: z.string().min(1).optional(),
  /** Compress the PDF's content streams (off only to read the text in tests). */
  compress: flag,
  timeoutMs: z.coerce.number().int().min(100).max(600_000),
});
export type PrintConfig = z.infer<typeof PrintConfig>;

const envNames: Record<keyof PrintConfig, string> = {
  dir: 'TEND_PRINT_DIR',
  vendorUrl: 'TEND_PRINT_VENDOR_URL',
  vendorToken: 'TEND_PRINT_VENDOR_TOKEN',
  allowPrivate: 'TEND_PRINT_ALLOW_PRIVATE',
  letterCents: 'TEND_PRINT_LETTER_CENTS',
  postcardCents: 'TEND_PRINT_POSTCARD_CENTS',
  batchSize: 'TEND_PRINT_BATCH_SIZE',
  batchMaxWaitMinutes: 'TEND_PRINT_BATCH_MINUTES',
  pageSize: 'TEND_PRINT_PAGE_SIZE',
  returnAddress: 'TEND_PRINT_RETURN_ADDRESS',
  homeCountry: 'TEND_PRINT_HOME_COUNTRY',
  holidays: 'TEND_PRINT_HOLIDAYS',
  timeZone: 'TEND_PRINT_TIME_ZONE',
  locale: 'TEND_PRINT_LOCALE',
  fontPath: 'TEND_PRINT_FONT',
  boldFontPath: 'TEND_PRINT_FONT_BOLD',
  compress: 'TEND_PRINT_COMPRESS',
  timeoutMs: 'TEND_PRINT_TIMEOUT_MS',
};

/** The print channel's configuration, or undefined without `TEND_PRINT_DIR` (no print channel). */
export function printConfigFromEnv(env: NodeJS.ProcessEnv): PrintConfig | undefined {
  if (!env.TEND_PRINT_DIR) {
    if (env.TEND_PRINT_VENDOR_URL) throw new ConfigError('configuration: TEND_PRINT_DIR is required with TEND_PRINT_VENDOR_URL (batches are kept there before and after they are sent)');
    return undefined;
  }
  const parsed = PrintConfig.safeParse({
    dir: env.TEND_PRINT_DIR,
    vendorUrl: env.TEND_PRINT_VENDOR_URL || undefined,
    vendorToken: env.TEND_PRINT_VENDOR_TOKEN || undefined,
    allowPrivate: env.TEND_PRINT_ALLOW_PRIVATE || false,
    letterCents: env.TEND_PRINT_LETTER_CENTS || 120,
    postcardCents: env.TEND_PRINT_POSTCARD_CENTS || 80,
    batchSize: env.TEND_PRINT_BATCH_SIZE || 500,
    batchMaxWaitMinutes: env.TEND_PRINT_BATCH_MINUTES || 60,
    pageSize: (env.TEND_PRINT_PAGE_SIZE || 'A4').toUpperCase(),
    returnAddress: env.TEND_PRINT_RETURN_ADDRESS || undefined,
    homeCountry: env.TEND_PRINT_HOME_COUNTRY?.toUpperCase() || undefined,
    holidays: (env.TEND_PRINT_HOLIDAYS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    timeZone: env.TEND_PRINT_TIME_ZONE || 'UTC',
    locale: env.TEND_PRINT_LOCALE || 'en-GB',
    fontPath: env.TEND_PRINT_FONT || undefined,
    boldFontPath: env.TEND_PRINT_FONT_BOLD || undefined,
    compress: env.TEND_PRINT_COMPRESS || true,
    timeoutMs: env.TEND_PRINT_TIMEOUT_MS || 60_000,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`configuration: ${envNames[issue.path[0] as keyof PrintConfig]} is not valid: ${issue.message}`);
  }
  return parsed.data;
}
