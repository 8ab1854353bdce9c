/**
 * The plain-language reason shown with every score, built from the numbers themselves:
 * "usually buys every 31 days; last order 94 days ago; 12% likely to still be a customer".
 * It is built when scores are read, not stored: it would be half of each stored row, and it
 * changes every day ("94 days ago") while the numbers it is made of mostly do not.
 */

/** "1 day", "94 days", "5 months", "2 years": days, months past 60 days, years past two years. */
export function span(days: number): string {
  const d = Math.max(0, Math.round(days));
  if (d < 60) return d === 1 ? '1 day' : `${d} days`;
  if (d < 730) return `${Math.round(d / 30.4375)} months`;
  const years = Math.round(d / 365.25);
  return `${years} years`;
}

/** "12%", "less than 1%", "over 99%". */
export function percent(p: number): string {
  if (p < 0.005) return 'less than 1%';
  if (p > 0.995) return 'over 99%';
  return `${Math.round(p * 100)}%`;
}

const ago = (days: number) => (days <= 0 ? 'today' : `${span(days)} ago`);

function money(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(2);
}

export type ExplainFacts = {
  purchaseDays: number;
  /** Days between the first and the last purchase day. */
  activeDays: number;
  daysSinceLastOrder: number | null;
  pAlive: number | null;
  /** P(at least one order in the next 90 days). */
  pOrder90: number | null;
  predictedClv: number | null;
  horizonMonths: number;
};

/** The explanation of one contact's scores. */
export function explain(f: ExplainFacts): string {
  if (f.purchaseDays === 0 || f.daysSinceLastOrder === null) return 'no order yet';
  const parts: string[] = [];
  if (f.purchaseDays === 1) {
    parts.push(`bought once, ${ago(f.daysSinceLastOrder)}`);
    if (f.pOrder90 !== null) parts.push(`${percent(f.pOrder90)} chance of another order in the next 90 days`);
  } else {
    parts.push(`usually buys every ${span(f.activeDays / (f.purchaseDays - 1))}`);
    parts.push(`last order ${ago(f.daysSinceLastOrder)}`);
    if (f.pAlive !== null) parts.push(`${percent(f.pAlive)} likely to still be a customer`);
  }
  if (f.predictedClv !== null) parts.push(`expected to spend ${money(f.predictedClv)} in the next ${f.horizonMonths} months`);
  return parts.join('; ');
}

/** The stored facts an explanation is made of (contact_scores; null before a contact's first scoring with them). */
export type StoredFacts = {
  purchaseDays: number | null;
  /** First and last purchase day as UTC day numbers. */
  firstOrderDay: number | null;
  lastOrderDay: number | null;
  pAlive: number | null;
  pOrder90d: number | null;
  predictedClv: number | null;
};

/**
 * The explanation of stored scores as of a day (a UTC day number): "last order 94 days ago" counts
 * to that day. Null for a row written before these facts were stored.
 */
export function explainStored(s: StoredFacts, asOfDay: number, horizonMonths: number): string | null {
  if (s.purchaseDays === null) return null;
  const ordered = s.purchaseDays > 0 && s.firstOrderDay !== null && s.lastOrderDay !== null;
  return explain({
    purchaseDays: ordered ? s.purchaseDays : 0,
    activeDays: ordered ? s.lastOrderDay! - s.firstOrderDay! : 0,
    daysSinceLastOrder: ordered ? asOfDay - s.lastOrderDay! : null,
    pAlive: s.pAlive,
    pOrder90: s.pOrder90d,
    predictedClv: s.predictedClv,
    horizonMonths,
  });
}
