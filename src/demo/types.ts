// Types shared by the demo shop generator.

export type DemoOptions = {
  customers: number;
  months: number;
  seed: number;
  /** The shop's history ends here; default 2026-11-01T00:00:00Z. */
  end?: Date;
};

export type DemoProduct = {
  sku: string;
  name: string;
  category: string;
  price: number;
  currency: 'USD';
  url: string;
  imageUrl: string;
  /** Days one unit lasts before it runs out (coffee beans, filters, pet food); null for durable goods. */
  lifetimeDays: number | null;
  /** Products often bought together with this one. */
  relatedSkus: string[];
  /** Better versions of this product. */
  upgradeSkus: string[];
};

/** A Segment-spec message, exactly as a Segment client would send it to POST /v1/batch. */
export type DemoMessage =
  | {
      type: 'identify';
      messageId: string;
      userId?: string;
      anonymousId?: string;
      timestamp: string;
      traits: Record<string, unknown>;
      context?: Record<string, unknown>;
    }
  | {
      type: 'track';
      messageId: string;
      userId?: string;
      anonymousId?: string;
      timestamp: string;
      event: string;
      properties: Record<string, unknown>;
      context?: Record<string, unknown>;
    }
  | {
      type: 'page';
      messageId: string;
      userId?: string;
      anonymousId?: string;
      timestamp: string;
      name?: string;
      properties: Record<string, unknown>;
      context?: Record<string, unknown>;
    };

/** The default end of the demo shop's history (a string, since a shared Date could be mutated). */
export const DEFAULT_DEMO_END = '2026-11-01T00:00:00Z';
