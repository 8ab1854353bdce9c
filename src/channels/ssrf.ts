/**
 * The outbound HTTP guard. Every URL that someone other than the operator can influence (a journey's
 * webhook step, a push subscription's endpoint that a browser registered, an SMS gateway or print
 * vendor URL from the settings) passes `checkOutboundUrl` before Tend connects to it, so that a
 * marketer or a forged subscription cannot make Tend call its own admin API, a database on the
 * private network or the cloud's metadata service (169.254.169.254) and read the answer back.
 *
 * `outboundRequest` is the one way the channel providers speak HTTP: it checks the URL, then
 * connects to exactly the address it checked (the request's DNS lookup is pinned to it), which
 * closes the DNS-rebinding gap between "the name resolved to a public address" and "the connection
 * went to a private one". It never follows redirects: a 3xx is just an answer.
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has (tests pass a fake; the default asks the system). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export type OutboundOptions = {
  /** Lets loopback and private networks through (tests, a gateway on the operator's own network). */
  allowPrivate?: boolean;
  resolve?: Resolver;
};

export type OutboundCheck =
  | { ok: true; url: URL; addresses: ResolvedAddress[] }
  | { ok: false; reason: string; /** True when the host did not resolve: maybe temporary. */ unresolved?: boolean };

type Range = { cidr: string; reason: string; /** Refused even with allowPrivate. */ always?: boolean };

const ranges: Range[] = [
  { cidr: '0.0.0.0/8', reason: 'an unspecified address (0.0.0.0/8)', always: true },
  { cidr: '10.0.0.0/8', reason: 'a private address (10.0.0.0/8)' },
  { cidr: '100.64.0.0/10', reason: 'a carrier-grade NAT address (100.64.0.0/10)' },
  { cidr: '127.0.0.0/8', reason: 'a loopback address (127.0.0.0/8)' },
  { cidr: '169.254.169.254/32', reason: 'the cloud metadata service (169.254.169.254)', always: true },
  { cidr: '169.254.170.2/32', reason: 'the container metadata service (169.254.170.2)', always: true },
  { cidr: '169.254.0.0/16', reason: 'a link-local address (169.254.0.0/16)' },
  { cidr: '172.16.0.0/12', reason: 'a private address (172.16.0.0/12)' },
  { cidr: '192.0.0.0/24', reason: 'an IETF protocol address (192.0.0.0/24)' },
  { cidr: '192.168.0.0/16', reason: 'a private address (192.168.0.0/16)' },
  { cidr: '198.18.0.0/15', reason: 'a benchmarking address (198.18.0.0/15)' },
  { cidr: '224.0.0.0/4', reason: 'a multicast address (224.0.0.0/4)', always: true },
  { cidr: '240.0.0.0/4', reason: 'a reserved or broadcast address (240.0.0.0/4)', always: true },
  { cidr: '::/128', reason: 'the unspecified address (::)', always: true },
  { cidr: '::1/128', reason: 'the loopback address (::1)' },
  { cidr: 'fd00:ec2::254/128', reason: 'the cloud metadata service (fd00:ec2::254)', always: true },
  { cidr: 'fc00::/7', reason: 'a unique-local address (fc00::/7)' },
  { cidr: 'fe80::/10', reason: 'a link-local address (fe80::/10)' },
  { cidr: 'fec0::/10', reason: 'a site-local address (fec0::/10)' },
  { cidr: 'ff00::/8', reason: 'a multicast address (ff00::/8)', always: true },
];

const lists = ranges.map((range) => {
  const [net, bits] = range.cidr.split('/') as [string, string];
  const list = new BlockList();
  list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  return { ...range, list, family: isIP(net) === 6 ? ('ipv6' as const) : ('ipv4' as const) };
});

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address);
  if (!groups) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return null;
}

function expandIpv6(address: string): number[] | null {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const p = dotted[1]!.split('.').map(Number);
    text = text.slice(0, -dotted[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? [] : new Array(8 - a.length - b.length).fill(0);
  const groups = [...a, ...fill, ...b];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * Why Tend must not connect to this IP address, or null when it may. Pure: the decision only.
 * IPv4 addresses embedded in IPv6 ones (mapped, NAT64, 6to4) are judged as the IPv4 address.
 */
export function refusedAddress(address: string, allowPrivate = false): string | null {
  const family = isIP(address);
  if (family === 0) return `not an IP address: ${address}`;
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) {
      const reason = refusedAddress(inner, allowPrivate);
      if (reason) return `${reason}, inside the IPv6 address ${address}`;
    }
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  for (const range of lists) {
    if (range.family !== type || !range.list.check(address, type)) continue;
    if (range.always || !allowPrivate) return range.reason;
    return null;
  }
  return null;
}

const systemResolver: Resolver = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * Decides whether Tend may call this URL: http or https only, no credentials in it, and every
 * address its host resolves to must be public (unless `allowPrivate`). The URL is never fetched.
 */
export async function checkOutboundUrl(raw: string, options: OutboundOptions = {}): Promise<OutboundCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `the scheme ${url.protocol} is not allowed (only http and https)` };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed (use a header)' };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) return { ok: false, reason: 'the URL has no host' };
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host);
    } catch (err) {
      return { ok: false, reason: `the host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})`, unresolved: true };
    }
    if (addresses.length === 0) return { ok: false, reason: `the host ${host} has no addresses`, unresolved: true };
  }
  for (const a of addresses) {
    const reason = refusedAddress(a.address, options.allowPrivate);
    if (reason) return { ok: false, reason: `${host} is ${reason}` };
  }
  return { ok: true, url, addresses };
}

export type OutboundRequest = {
  method: 'GET' | 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
} & OutboundOptions;

export type OutboundResponse =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body: string }
  /** The guard refused the URL; nothing was sent. */
  | { kind: 'refused'; reason: string }
  /** No answer: DNS, connection, TLS or timeout. Usually worth another try. */
  | { kind: 'error'; error: string };

/** The most of a response body Tend reads; error details fit easily, a hostile endpoint cannot fill memory. */
const MAX_BODY = 64 * 1024;

/** One guarded HTTP request (see the file comment). Never throws for network trouble: it says what happened. */
export async function outboundRequest(rawUrl: string, req: OutboundRequest): Promise<OutboundResponse> {
  const check = await checkOutboundUrl(rawUrl, req);
  if (!check.ok) return check.unresolved ? { kind: 'error', error: check.reason } : { kind: 'refused', reason: check.reason };
  const pinned = check.addresses[0]!;
  const lookup: LookupFunction = (_host, opts, callback) => {
    if (opts.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const client = check.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const timer = setTimeout(() => request?.destroy(new Error(`no answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    const done = (r: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    try {
      request = client.request(check.url, { method: req.method, headers: req.headers, lookup, agent: false }, onResponse);
    } catch (err) {
      // An invalid header name or value: refused before anything went out.
      return done({ kind: 'refused', reason: (err as Error).message });
    }
    function onResponse(res: http.IncomingMessage) {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = () => done({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8') });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // The status is what counts; a body past the limit is cut rather than waited for.
        if (size >= MAX_BODY) {
          answer();
          res.destroy();
        }
      });
      res.on('end', answer);
      res.on('error', (err) => done({ kind: 'error', error: err.message }));
    }
    request.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'error', error: err.code ? `${err.code}: ${err.message}` : err.message }));
    request.end(req.body);
  });
}

/** A Retry-After header (seconds or an HTTP date) as milliseconds from `now`, if present and sane. */
export function retryAfterMs(header: string | string[] | undefined, now: Date): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now.getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, 24 * 3600_000);
}
