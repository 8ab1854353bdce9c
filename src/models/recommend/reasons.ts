// Plain-language reasons for recommendations.

const customers = (n: number) => `${n.toLocaleString('en')} customer${n === 1 ? '' : 's'}`;

/**
 * Why a product appears on the page of `anchor`: "34 customers who bought Kettle also bought it".
 * Co-occurrence is counted over customers (bought both, at any time), not within one order.
 */
export function togetherReason(anchor: string, coCustomers: number): string {
  return coCustomers > 0 ? `${customers(coCustomers)} who bought ${anchor} also bought it` : `goes with ${anchor} (one of the shop's related products)`;
}

/** Why a product is in a contact's "for you" list because of something they bought. */
export function becauseReason(owned: string, coCustomers: number): string {
  return coCustomers > 0
    ? `customers who bought ${owned}, as you did, also bought it (${customers(coCustomers)} bought both)`
    : `goes with your ${owned} (one of the shop's related products)`;
}

/** Why a best seller fills a list the model could not fill. */
export function popularReason(buyers: number): string {
  return `a best seller: bought by ${customers(buyers)}`;
}
