// Who shops at the demo shop: names, addresses, time zones, locales, devices and consent, drawn
// per country so a Warsaw customer gets a Polish name, a wp.pl address and Europe/Warsaw.
//
// Safety: the demo must never put real people's contact details into a workspace that can send
// messages. Email local parts carry a random number (jane.doe.4821@gmail.com) so they are very
// unlikely to belong to anyone, phone numbers come only from ranges reserved for fiction, and IP
// addresses come from the documentation ranges (RFC 5737).
import type { Rng } from './random.ts';

type Country = {
  code: string;
  weight: number;
  zones: string[];
  locales: string[];
  first: string[];
  last: string[];
  // [domain, weight]; the shop's customers mostly use the big providers of their country.
  domains: Array<[string, number]>;
  phone: ((rng: Rng) => string) | null;
};

const EN_FIRST = ['James', 'Mary', 'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Sophia', 'Jackson', 'Mia', 'Ethan', 'Harper', 'Lucas', 'Amelia', 'Mason', 'Chloe', 'Grace', 'Henry', 'Ella', 'Daniel', 'Zoe', 'Samuel', 'Lily', 'Jack'];
const EN_LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Taylor', 'Anderson', 'Thomas', 'Moore', 'Martin', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Young', 'King', 'Wright', 'Hughes', 'Evans'];
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join('');
// North American numbers 555-0100…0199 are reserved for fiction.
const nanp = (areas: number[]) => (rng: Rng) => `+1${rng.pick(areas)}5550${rng.int(100, 199)}`;

const COUNTRIES: readonly Country[] = [
  { code: 'US', weight: 40, zones: ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Phoenix', 'America/Anchorage', 'Pacific/Honolulu'],
    locales: ['en-US', 'en-US', 'en-US', 'es-US'], first: EN_FIRST, last: EN_LAST,
    domains: [['gmail.com', 45], ['yahoo.com', 12], ['hotmail.com', 7], ['outlook.com', 9], ['icloud.com', 12], ['aol.com', 3], ['comcast.net', 3], ['protonmail.com', 1]],
    phone: nanp([212, 312, 415, 503, 617, 702, 213, 305, 404, 512]) },
  { code: 'CA', weight: 5, zones: ['America/Toronto', 'America/Vancouver', 'America/Edmonton', 'America/Halifax'], locales: ['en-CA', 'en-CA', 'fr-CA'],
    first: EN_FIRST, last: [...EN_LAST.slice(0, 12), 'Tremblay', 'Gagnon', 'Roy', 'Côté'],
    domains: [['gmail.com', 50], ['hotmail.com', 15], ['outlook.com', 10], ['yahoo.com', 10], ['icloud.com', 10]],
    phone: nanp([416, 604, 514, 403, 613]) },
  { code: 'GB', weight: 12, zones: ['Europe/London'], locales: ['en-GB'], first: EN_FIRST, last: [...EN_LAST, 'Patel', 'Roberts', 'Begum', 'Murphy'],
    domains: [['gmail.com', 40], ['hotmail.co.uk', 15], ['btinternet.com', 8], ['outlook.com', 12], ['yahoo.co.uk', 10], ['icloud.com', 10]],
    // Ofcom keeps 07700 900000–900999 for drama.
    phone: (rng) => `+447700900${String(rng.int(0, 999)).padStart(3, '0')}` },
  { code: 'DE', weight: 10, zones: ['Europe/Berlin'], locales: ['de-DE'],
    first: ['Lukas', 'Anna', 'Leon', 'Marie', 'Felix', 'Sophie', 'Jonas', 'Lena', 'Paul', 'Laura', 'Maximilian', 'Hannah', 'Jürgen', 'Katrin'],
    last: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer', 'Koch', 'Richter'],
    domains: [['gmx.de', 25], ['web.de', 25], ['gmail.com', 30], ['t-online.de', 10], ['outlook.com', 5], ['gmx.net', 5]], phone: null },
  { code: 'PL', weight: 8, zones: ['Europe/Warsaw'], locales: ['pl-PL'],
    first: ['Anna', 'Piotr', 'Katarzyna', 'Krzysztof', 'Małgorzata', 'Tomasz', 'Agnieszka', 'Paweł', 'Magdalena', 'Michał', 'Zofia', 'Jakub'],
    last: ['Nowak', 'Kowalski', 'Wiśniewski', 'Wójcik', 'Kowalczyk', 'Kamiński', 'Lewandowski', 'Zieliński', 'Szymański', 'Woźniak'],
    domains: [['wp.pl', 20], ['onet.pl', 15], ['o2.pl', 10], ['interia.pl', 10], ['gmail.com', 45]], phone: null },
  { code: 'FR', weight: 7, zones: ['Europe/Paris'], locales: ['fr-FR'],
    first: ['Camille', 'Louis', 'Léa', 'Gabriel', 'Manon', 'Hugo', 'Chloé', 'Jules', 'Inès', 'Arthur', 'Élodie', 'Théo'],
    last: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Lefèvre', 'Girard'],
    domains: [['gmail.com', 40], ['orange.fr', 20], ['free.fr', 15], ['hotmail.fr', 15], ['laposte.net', 5], ['yahoo.fr', 5]],
    // ARCEP keeps 06 39 98 xx xx for fiction.
    phone: (rng) => `+33639980${digits(rng, 3)}` },
  { code: 'ES', weight: 4, zones: ['Europe/Madrid', 'Atlantic/Canary'], locales: ['es-ES'],
    first: ['Lucía', 'Hugo', 'Martina', 'Mateo', 'Sofía', 'Pablo', 'Paula', 'Álvaro', 'Carmen', 'Javier'],
    last: ['García', 'Rodríguez', 'González', 'Fernández', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz'],
    domains: [['gmail.com', 55], ['hotmail.com', 25], ['outlook.com', 10], ['yahoo.com', 10]], phone: null },
  { code: 'AU', weight: 5, zones: ['Australia/Sydney', 'Australia/Melbourne', 'Australia/Brisbane', 'Australia/Perth', 'Australia/Adelaide'],
    locales: ['en-AU'], first: EN_FIRST, last: [...EN_LAST, 'Nguyen', 'Kelly', 'Ryan'],
    domains: [['gmail.com', 45], ['hotmail.com', 15], ['outlook.com', 10], ['bigpond.com', 10], ['icloud.com', 15], ['yahoo.com', 5]],
    // ACMA keeps 02 5550 xxxx landline numbers for fiction.
    phone: (rng) => `+6125550${digits(rng, 4)}` },
  { code: 'BR', weight: 4, zones: ['America/Sao_Paulo', 'America/Manaus'], locales: ['pt-BR'],
    first: ['Miguel', 'Helena', 'Arthur', 'Alice', 'Heitor', 'Laura', 'Bernardo', 'Valentina', 'João', 'Beatriz'],
    last: ['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira', 'Lima', 'Gomes'],
    domains: [['gmail.com', 60], ['hotmail.com', 20], ['outlook.com', 10], ['yahoo.com', 5], ['uol.com.br', 5]], phone: null },
  { code: 'JP', weight: 3, zones: ['Asia/Tokyo'], locales: ['ja-JP'],
    first: ['Haruto', 'Yui', 'Sota', 'Hina', 'Riku', 'Sakura', 'Yuto', 'Aoi', 'Kenji', 'Yuki'],
    last: ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'],
    domains: [['gmail.com', 45], ['yahoo.co.jp', 30], ['icloud.com', 25]], phone: null },
  { code: 'IN', weight: 2, zones: ['Asia/Kolkata'], locales: ['en-IN', 'hi-IN'],
    first: ['Aarav', 'Ananya', 'Vihaan', 'Diya', 'Arjun', 'Isha', 'Rohan', 'Priya', 'Aditya', 'Kavya'],
    last: ['Sharma', 'Patel', 'Singh', 'Kumar', 'Gupta', 'Reddy', 'Iyer', 'Das', 'Mehta', 'Joshi'],
    domains: [['gmail.com', 70], ['yahoo.co.in', 15], ['outlook.com', 10], ['rediffmail.com', 5]], phone: null },
];

const COUNTRY_WEIGHTS = COUNTRIES.map((c) => c.weight);

// Standard-time offsets from UTC in hours; daylight saving is ignored, as it only decides whether
// someone shops at 7 or at 8 in the morning.
const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  'America/New_York': -5, 'America/Chicago': -6, 'America/Denver': -7, 'America/Los_Angeles': -8,
  'America/Phoenix': -7, 'America/Anchorage': -9, 'Pacific/Honolulu': -10, 'America/Toronto': -5,
  'America/Vancouver': -8, 'America/Edmonton': -7, 'America/Halifax': -4, 'Europe/London': 0,
  'Europe/Berlin': 1, 'Europe/Warsaw': 1, 'Europe/Paris': 1, 'Europe/Madrid': 1, 'Atlantic/Canary': 0,
  'Australia/Sydney': 10, 'Australia/Melbourne': 10, 'Australia/Brisbane': 10, 'Australia/Perth': 8,
  'Australia/Adelaide': 9.5, 'America/Sao_Paulo': -3, 'America/Manaus': -4, 'Asia/Tokyo': 9, 'Asia/Kolkata': 5.5,
};

// Mistakes people really make when typing their address, and the providers they meant.
const TYPO_DOMAINS = ['gmial.com', 'gmal.com', 'gmail.con', 'gmail.co', 'gmaill.com', 'hotmial.com', 'hotmail.con', 'yaho.com', 'yahooo.com', 'outlok.com', 'iclod.com', 'icloud.con'];
const DISPOSABLE_DOMAINS = ['mailinator.com', 'guerrillamail.com', 'yopmail.com', '10minutemail.com', 'sharklasers.com', 'trashmail.com'];
const ROLE_LOCALS = ['info', 'admin', 'sales', 'office', 'contact', 'hello', 'support'];

const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0',
  'Mozilla/5.0 (iPad; CPU OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1',
];
const UA_WEIGHTS = [34, 18, 12, 18, 10, 5, 3];
const TEST_NETS = ['192.0.2', '198.51.100', '203.0.113'];

/** A demo customer's identity and preferences, as sent in identify traits. */
export type Person = {
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
  birthday: string | null;
  country: string;
  timezone: string;
  /** The time zone's standard offset from UTC, hours. */
  utcOffset: number;
  locale: string;
  consent: { email: boolean; sms: boolean; push: boolean };
  userAgent: string;
  ip: string;
};

/** Draws one person; `now` (ms) anchors the birthday so ages come out between 18 and 80. */
export function drawPerson(rng: Rng, now: number): Person {
  const country = COUNTRIES[rng.weightedIndex(COUNTRY_WEIGHTS)] ?? COUNTRIES[0]!;
  const firstName = rng.pick(country.first);
  const lastName = rng.pick(country.last);
  const phone = country.phone !== null && rng.chance(0.6) ? country.phone(rng) : null;
  const age = Math.min(80, 18 + rng.gamma(4, 4.5));
  const birthday = rng.chance(0.85) ? new Date(now - age * 365.25 * 86_400_000).toISOString().slice(0, 10) : null;
  const emailConsent = rng.chance(0.78);
  const timezone = rng.pick(country.zones);
  return {
    firstName,
    lastName,
    email: drawEmail(rng, firstName, lastName, country.domains),
    phone,
    birthday,
    country: country.code,
    timezone,
    utcOffset: ZONE_OFFSETS[timezone] ?? 0,
    locale: rng.pick(country.locales),
    consent: { email: emailConsent, sms: phone !== null && rng.chance(emailConsent ? 0.45 : 0.15), push: rng.chance(0.35) },
    userAgent: USER_AGENTS[rng.weightedIndex(UA_WEIGHTS)] ?? USER_AGENTS[0]!,
    ip: `${rng.pick(TEST_NETS)}.${rng.int(1, 254)}`,
  };
}

function drawEmail(rng: Rng, first: string, last: string, domains: Array<[string, number]>): string {
  const roll = rng.next();
  const tag = rng.int(10, 9999);
  const f = asciiLower(first);
  const l = asciiLower(last);
  const style = rng.int(0, 3);
  const local = style === 0 ? `${f}.${l}.${tag}` : style === 1 ? `${f}${l}${tag}` : style === 2 ? `${f[0] ?? 'x'}${l}${tag}` : `${f}_${tag}`;
  // About 2% mistype their provider, 1.5% use a throwaway inbox and 1% sign up with a role mailbox.
  if (roll < 0.02) return `${local}@${rng.pick(TYPO_DOMAINS)}`;
  if (roll < 0.035) return `${local}@${rng.pick(DISPOSABLE_DOMAINS)}`;
  const domain = domains[rng.weightedIndex(domains.map((d) => d[1]))]?.[0] ?? 'gmail.com';
  if (roll < 0.045) return `${rng.pick(ROLE_LOCALS)}@${l}${tag}.example`;
  // A few people type capitals or stray spaces; the pipeline is expected to normalize them.
  if (roll < 0.07) return `${asciiName(first)}.${asciiName(last)}${tag}@${domain}${rng.chance(0.5) ? ' ' : ''}`;
  return `${local}@${domain}`;
}

// Email local parts are ASCII in practice: strip accents and anything else.
function asciiName(name: string): string {
  return name.normalize('NFD').replace(/[^A-Za-z]/g, '') || 'x';
}

function asciiLower(name: string): string {
  return asciiName(name).toLowerCase();
}
