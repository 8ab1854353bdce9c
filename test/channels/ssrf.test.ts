import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { checkOutboundUrl, outboundRequest, refusedAddress, retryAfterMs, type Resolver } from '../../src/channels/ssrf.ts';

/** A resolver from a table: the guard's decision is tested without any lookup or connection. */
const table = (entries: Record<string, string[]>): Resolver => async (host) => {
  const found = entries[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('refusedAddress', () => {
  const refused = [
    '127.0.0.1', '127.8.9.10', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.1',
    '169.254.0.1', '169.254.169.254', '100.64.0.1', '100.127.255.255', '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250',
    '255.255.255.255', '::1', '::', 'fc00::1', 'fd12:3456:789a::1', 'fe80::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '2002:c0a8:0101::1',
  ];
  for (const address of refused) {
    it(`refuses ${address}`, () => assert.notEqual(refusedAddress(address), null));
  }
  const allowed = ['93.184.215.14', '8.8.8.8', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82f::200e', '::ffff:8.8.8.8'];
  for (const address of allowed) {
    it(`allows ${address}`, () => assert.equal(refusedAddress(address), null));
  }

  it('lets private addresses through with allowPrivate, but never the metadata service, 0.0.0.0 or multicast', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '::1', 'fd00::1', '100.64.0.1', '169.254.10.10', '::ffff:127.0.0.1']) assert.equal(refusedAddress(a, true), null, a);
    for (const a of ['169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '224.0.0.1', '::', '::ffff:169.254.169.254']) assert.notEqual(refusedAddress(a, true), null, a);
  });

  it('says why', () => {
    assert.match(refusedAddress('169.254.169.254')!, /metadata/);
    assert.match(refusedAddress('::ffff:10.0.0.1')!, /private.*inside the IPv6 address/);
  });
});

describe('checkOutboundUrl', () => {
  const resolve = table({
    'hooks.partner.example': ['203.0.113.10', '2606:4700::10'],
    'internal.partner.example': ['93.184.215.14', '10.0.0.7'],
    'metadata.google.internal': ['169.254.169.254'],
    'localhost': ['127.0.0.1', '::1'],
  });

  it('allows an https URL whose host resolves only to public addresses', async () => {
    const r = await checkOutboundUrl('https://hooks.partner.example/tend?x=1', { resolve });
    assert.ok(r.ok);
    assert.deepEqual(r.addresses.map((a) => a.address), ['203.0.113.10', '2606:4700::10']);
  });

  it('refuses when any resolved address is private, loopback or the metadata service', async () => {
    for (const url of ['https://internal.partner.example/', 'http://metadata.google.internal/computeMetadata/v1/', 'http://localhost:3000/api/contacts']) {
      const r = await checkOutboundUrl(url, { resolve });
      assert.equal(r.ok, false, url);
    }
    const meta = await checkOutboundUrl('http://metadata.google.internal/', { resolve, allowPrivate: true });
    assert.equal(meta.ok, false);
  });

  it('refuses other schemes, credentials, and IP literals in any spelling', async () => {
    const cases: [string, RegExp][] = [
      ['file:///etc/passwd', /scheme file:/],
      ['gopher://127.0.0.1:6379/_INFO', /scheme gopher:/],
      ['ftp://hooks.partner.example/', /scheme ftp:/],
      ['https://user:pass@hooks.partner.example/', /credentials/],
      ['http://2130706433/', /loopback/],
      ['http://0x7f.1/', /loopback/],
      ['http://017700000001/', /loopback/],
      ['http://[::ffff:127.0.0.1]/', /loopback/],
      ['http://[::1]:8080/', /loopback/],
      ['http://0.0.0.0:3000/', /unspecified/],
      ['http://169.254.169.254/latest/meta-data/', /metadata/],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, reason] of cases) {
      const r = await checkOutboundUrl(url, { resolve });
      assert.equal(r.ok, false, url);
      assert.match(r.ok ? '' : r.reason, reason, url);
    }
  });

  it('reports a host that does not resolve as unresolved', async () => {
    const r = await checkOutboundUrl('https://nowhere.partner.example/', { resolve });
    assert.deepEqual(r.ok ? null : [r.unresolved, /ENOTFOUND/.test(r.reason)], [true, true]);
  });
});

describe('outboundRequest', () => {
  it('connects to the address it checked, whatever the system resolver would say', async () => {
    let host: string | undefined;
    const server = createServer((req, res) => {
      host = req.headers.host;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const res = await outboundRequest(`http://hooks.tend-test.invalid:${port}/x`, { method: 'GET', headers: {}, timeoutMs: 2000, allowPrivate: true, resolve: table({ 'hooks.tend-test.invalid': ['127.0.0.1'] }) });
      assert.deepEqual(res.kind === 'response' ? [res.status, res.body] : res, [200, 'ok']);
      assert.equal(host, `hooks.tend-test.invalid:${port}`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('reads Retry-After in seconds or as a date', () => {
    const now = new Date('2026-03-02T10:00:00Z');
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs('Mon, 02 Mar 2026 10:01:00 GMT', now), 60_000);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });
});
