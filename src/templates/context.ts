/**
 * What a message template can read. The send pipeline builds one `RenderContext` per message; the
 * publish-time analyser checks every variable a template names against `contextShape`, so the two
 * are kept side by side here and must change together.
 */

export type ItemVars = {
  sku: string;
  name: string;
  /** In major units (19.99), as Segment's e-commerce spec sends it. */
  price: number;
  quantity: number;
  url?: string | null;
  image_url?: string | null;
  category?: string | null;
};

export type ContactVars = {
  id: string;
  user_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  /** IANA zone ("Europe/Warsaw"); dates render in it. */
  timezone: string | null;
  /** BCP 47 ("pl-PL"); money and dates are formatted for it. */
  locale: string | null;
  lifecycle_stage: string | null;
  traits: Record<string, unknown>;
  scores: {
    p_alive?: number | null;
    churn_risk?: number | null;
    churn_band?: string | null;
    expected_purchases_90d?: number | null;
    expected_next_order_at?: string | null;
    predicted_clv?: number | null;
    rfm_cell?: string | null;
  };
};

export type RenderContext = {
  contact: ContactVars;
  /** The event that started the journey, when one did. */
  event?: { name: string; properties: Record<string, unknown>; occurred_at: string };
  cart?: { items: ItemVars[]; total: number; currency: string; url?: string | null };
  order?: { order_id: string; total: number; currency: string; items: ItemVars[]; ordered_at: string };
  recommendations?: { sku: string; name: string; price: number; url?: string | null; image_url?: string | null }[];
  coupon?: { code: string; percent_off?: number | null; amount_off?: number | null; expires_at?: string | null };
  /** Signed links, made by the send pipeline with src/tracking/links.ts. */
  /** `survey` is the base of answer links: `{{ links.survey }}?q=nps&a=9` records "Survey Answered". */
  links: { unsubscribe: string; preferences: string; survey: string; view_in_browser?: string | null };
  workspace: { name: string };
  message: { id: string };
  /**
   * The clock's time (ISO 8601) when the message is rendered. `"now" | date` reads it, so a
   * simulated year renders the dates it would have shown, not the machine's.
   */
  now?: string;
};

/**
 * The analyser's view of `RenderContext`: which names exist. `any` accepts every path below it
 * (traits and event properties are the shop's own).
 */
export type Shape =
  | { kind: 'value' }
  | { kind: 'any' }
  | { kind: 'list'; item: Shape }
  | { kind: 'object'; fields: Readonly<Record<string, Shape>> };

const value: Shape = { kind: 'value' };
const any: Shape = { kind: 'any' };
const list = (item: Shape): Shape => ({ kind: 'list', item });
const object = (fields: Record<string, Shape>): Shape => ({ kind: 'object', fields });
const fieldsOf = (...names: string[]): Record<string, Shape> => Object.fromEntries(names.map((n) => [n, value]));
const values = (...names: string[]): Shape => object(fieldsOf(...names));

const item = values('sku', 'name', 'price', 'quantity', 'url', 'image_url', 'category');

export const contextShape: Shape = object({
  contact: object({
    ...fieldsOf('id', 'user_id', 'email', 'phone', 'first_name', 'last_name', 'timezone', 'locale', 'lifecycle_stage'),
    traits: any,
    scores: values('p_alive', 'churn_risk', 'churn_band', 'expected_purchases_90d', 'expected_next_order_at', 'predicted_clv', 'rfm_cell'),
  }),
  event: object({ name: value, properties: any, occurred_at: value }),
  cart: object({ items: list(item), total: value, currency: value, url: value }),
  order: object({ order_id: value, total: value, currency: value, items: list(item), ordered_at: value }),
  recommendations: list(values('sku', 'name', 'price', 'url', 'image_url')),
  coupon: values('code', 'percent_off', 'amount_off', 'expires_at'),
  links: values('unsubscribe', 'preferences', 'survey', 'view_in_browser'),
  workspace: values('name'),
  message: values('id'),
  now: value,
});

/** What `forloop` offers inside a `for` block. */
export const forloopShape: Shape = object({
  ...fieldsOf('index', 'index0', 'rindex', 'rindex0', 'first', 'last', 'length', 'name'),
  parentloop: any,
});

/**
 * A complete context with believable values: the editor's preview, test sends, and the
 * per-message render benchmark use it.
 */
export function sampleContext(): RenderContext {
  const items: ItemVars[] = [
    { sku: 'TEE-BLU-M', name: 'Organic cotton tee, blue', price: 24.5, quantity: 2, url: 'https://shop.example/p/tee-blue', image_url: 'https://shop.example/i/tee-blue.jpg', category: 'Tops' },
    { sku: 'MUG-01', name: 'Stoneware mug', price: 14, quantity: 1, url: 'https://shop.example/p/mug', image_url: 'https://shop.example/i/mug.jpg', category: 'Home' },
  ];
  return {
    contact: {
      id: 'c_1', user_id: 'u_1', email: 'ada@example.com', phone: '+48500100200', first_name: 'Ada', last_name: 'Nowak',
      timezone: 'Europe/Warsaw', locale: 'en-GB', lifecycle_stage: 'active', traits: { plan: 'gold' },
      scores: { p_alive: 0.82, churn_risk: 0.18, churn_band: 'low', expected_purchases_90d: 1.4, expected_next_order_at: '2025-04-02', predicted_clv: 310.4, rfm_cell: '545' },
    },
    event: { name: 'Checkout Started', properties: { cart_id: 'cart_9' }, occurred_at: '2025-03-01T18:04:00Z' },
    cart: { items, total: 63, currency: 'EUR', url: 'https://shop.example/cart?id=cart_9&src=email' },
    order: { order_id: 'o_77', total: 63, currency: 'EUR', items, ordered_at: '2025-02-01T10:00:00Z' },
    recommendations: [{ sku: 'SOCK-3', name: 'Wool socks, 3 pairs', price: 19, url: 'https://shop.example/p/socks', image_url: 'https://shop.example/i/socks.jpg' }],
    coupon: { code: 'COMEBACK10', percent_off: 10, amount_off: null, expires_at: '2025-03-15T23:59:59Z' },
    links: { unsubscribe: 'https://t.example/t/u/sample', preferences: 'https://t.example/t/p/sample', survey: 'https://t.example/t/s/sample', view_in_browser: 'https://t.example/v/sample' },
    workspace: { name: 'Example Shop' },
    message: { id: 'm_1' },
    now: '2025-03-01T18:34:00Z',
  };
}
