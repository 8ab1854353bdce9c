/**
 * Turning stored neighbours into a contact's "for you" list and a product's "bought together"
 * list. Pure, and the one implementation both the API (neighbours read from the database) and the
 * offline evaluation (neighbours straight from the fit) use, so the evaluation measures what ships.
 */

export type NeighbourRow = { sku: string; weight: number; similarity: number; coCustomers: number };

export type Ranked =
  | { sku: string; score: number; kind: 'replenish'; dueAt: Date }
  | { sku: string; score: number; kind: 'model'; because: { sku: string; coCustomers: number } }
  | { sku: string; score: number; kind: 'popular'; customers: number };

export type RankInput = {
  /** Everything the contact has bought. */
  owned: Iterable<string>;
  /** A product's stored neighbours (undefined: none). */
  neighbours: (sku: string) => readonly NeighbourRow[] | undefined;
  /** Owned consumables that run out soon: listed first, soonest first, despite being owned. */
  dueSoon?: readonly { sku: string; dueAt: Date }[];
  /** Best sellers, most customers first: the fallback when the model has too little to go on. */
  popular: readonly { sku: string; customers: number }[];
  limit: number;
  /** Which neighbour score to sum: EASE weights (default) or cosine similarities. */
  by?: 'weight' | 'similarity';
  /** Products never to recommend (discontinued, out of stock). */
  exclude?: ReadonlySet<string>;
};

/**
 * A contact's recommendations: products due for replenishment first, then the model's products
 * (x·B over the contact's products, restricted to stored neighbours), then best sellers. Owned
 * products are left out unless due; each result says why it is there.
 */
export function rankForContact(input: RankInput): Ranked[] {
  const owned = new Set(input.owned);
  const by = input.by ?? 'weight';
  const out: Ranked[] = [];
  const taken = new Set<string>();
  const allowed = (sku: string) => !taken.has(sku) && !(input.exclude?.has(sku) ?? false);

  const due = [...(input.dueSoon ?? [])].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || compare(a.sku, b.sku));
  for (const d of due) {
    if (out.length >= input.limit) return out;
    if (!allowed(d.sku)) continue;
    out.push({ sku: d.sku, score: Infinity, kind: 'replenish', dueAt: d.dueAt });
    taken.add(d.sku);
  }

  const scores = new Map<string, { score: number; best: number; because: { sku: string; coCustomers: number } }>();
  for (const sku of owned) {
    for (const n of input.neighbours(sku) ?? []) {
      const value = n[by];
      if (value <= 0 || owned.has(n.sku)) continue;
      const s = scores.get(n.sku);
      if (!s) scores.set(n.sku, { score: value, best: value, because: { sku, coCustomers: n.coCustomers } });
      else {
        s.score += value;
        if (value > s.best || (value === s.best && compare(sku, s.because.sku) < 0)) {
          s.best = value;
          s.because = { sku, coCustomers: n.coCustomers };
        }
      }
    }
  }
  const modelled = [...scores].sort((a, b) => b[1].score - a[1].score || compare(a[0], b[0]));
  for (const [sku, s] of modelled) {
    if (out.length >= input.limit) return out;
    if (!allowed(sku)) continue;
    out.push({ sku, score: s.score, kind: 'model', because: s.because });
    taken.add(sku);
  }

  for (const p of input.popular) {
    if (out.length >= input.limit) break;
    if (owned.has(p.sku) || !allowed(p.sku)) continue;
    out.push({ sku: p.sku, score: 0, kind: 'popular', customers: p.customers });
    taken.add(p.sku);
  }
  return out;
}

/** A product's "bought together" list: its neighbours by similarity, strongest first. */
export function boughtTogether(neighbours: readonly NeighbourRow[], limit: number, exclude?: ReadonlySet<string>): NeighbourRow[] {
  return neighbours
    .filter((n) => n.similarity > 0 && !(exclude?.has(n.sku) ?? false))
    .sort((a, b) => b.similarity - a.similarity || compare(a.sku, b.sku))
    .slice(0, limit);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
