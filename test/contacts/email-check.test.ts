import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkEmail,
  damerauLevenshtein,
  isDisposableDomain,
  isRoleLocalPart,
  suggestDomain,
  MAX_EMAIL_LENGTH,
} from '../../src/contacts/email-check.ts';

describe('checkEmail: syntax', () => {
  it('accepts ordinary addresses and normalizes them', () => {
    const r = checkEmail('  Jane.Doe+News@Example.COM \n');
    assert.deepEqual(r, {
      normalized: 'jane.doe+news@example.com',
      valid: true,
      reason: 'ok',
      disposable: false,
      role: false,
      suggestion: null,
    });
  });

  for (const good of [
    'a@b.co',
    'first_last@sub.domain.example.org',
    "o'brien@example.ie",
    'x-y.z@mail-server.example.de',
    '1234@example.com',
    'zoë@example.fr',
    'user@bücher.example',
    'user@example.xn--p1ai',
  ]) {
    it(`accepts ${good}`, () => {
      const r = checkEmail(good);
      assert.equal(r.reason, 'ok', JSON.stringify(r));
      assert.equal(r.valid, true);
      assert.ok(r.normalized);
    });
  }

  it('turns an internationalized domain into punycode', () => {
    assert.equal(checkEmail('user@Bücher.example').normalized, 'user@xn--bcher-kva.example');
  });

  for (const bad of [
    '',
    '   ',
    'plainaddress',
    '@example.com',
    'user@',
    'user@@example.com',
    'a@b@example.com',
    'user@localhost',
    'user@example',
    'user@example.c',
    'user@example.123',
    'user@-example.com',
    'user@example-.com',
    'user@exa_mple.com',
    'user@example..com',
    'user@.example.com',
    'user@example.com.',
    '.user@example.com',
    'user.@example.com',
    'us..er@example.com',
    'us er@example.com',
    'user@exam ple.com',
    'user\t@example.com',
    'user@example.com\u0000',
    'user\u200b@example.com',
    '"john doe"@example.com',
    'user@[192.168.0.1]',
    'user(comment)@example.com',
    '<script>alert(1)</script>@example.com',
    'user@<script>.com',
    'user@example.com<script>alert(1)</script>',
    "'; DROP TABLE contacts; --@example.com",
    'javascript:alert(1)',
    'user@exämple.c<m',
    `${'a'.repeat(65)}@example.com`,
    `user@${'a'.repeat(64)}.com`,
    `user@${Array.from({ length: 60 }, () => 'abcd').join('.')}.com`,
  ]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 60))}`, () => {
      const r = checkEmail(bad);
      assert.deepEqual(r, { normalized: null, valid: false, reason: 'syntax', disposable: false, role: false, suggestion: null });
    });
  }

  it('accepts the longest legal local part and label', () => {
    assert.equal(checkEmail(`${'a'.repeat(64)}@example.com`).valid, true);
    assert.equal(checkEmail(`user@${'a'.repeat(63)}.com`).valid, true);
  });

  it('survives values that are not strings at all', () => {
    for (const value of [null, undefined, 42, {}, [], Symbol('x')]) {
      assert.equal(checkEmail(value as unknown as string).reason, 'syntax');
    }
  });
});

describe('checkEmail: hostile and huge input', () => {
  it(`rejects anything longer than ${MAX_EMAIL_LENGTH} characters`, () => {
    const local = 'a'.repeat(64);
    const labels = Array.from({ length: 5 }, () => 'b'.repeat(60)).join('.');
    const long = `${local}@${labels}.com`;
    assert.ok(long.length > MAX_EMAIL_LENGTH);
    assert.equal(checkEmail(long).reason, 'syntax');
  });

  it('answers quickly on multi-megabyte input', () => {
    const inputs = [
      'a'.repeat(10_000_000),
      `${'a'.repeat(5_000_000)}@example.com`,
      `user@${'a.'.repeat(3_000_000)}com`,
      ' '.repeat(5_000_000) + 'user@example.com',
      '@'.repeat(1_000_000),
      'a.'.repeat(2_000_000) + '@x.com',
    ];
    const started = performance.now();
    for (const input of inputs) assert.equal(checkEmail(input).reason, 'syntax');
    assert.ok(performance.now() - started < 500, 'huge inputs must be refused without scanning them');
  });

  it('stays linear on near-miss strings that trouble backtracking regexes', () => {
    const started = performance.now();
    for (let n = 1; n <= 64; n++) {
      checkEmail(`${'a.'.repeat(n)}!@example.com`);
      checkEmail(`${'a'.repeat(n)}@${'a-'.repeat(n)}.com`);
      checkEmail(`user@${'a'.repeat(n)}.${'1'.repeat(n)}`);
    }
    assert.ok(performance.now() - started < 500);
  });

  it('never throws on random garbage', () => {
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const alphabet = 'ab.@-_+ \t\n<>"\'\\/:;,[]()\u0000\u200b\u00e9\u4e2d\ud83d\ude00\ud800';
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(next() * 40);
      let s = '';
      for (let j = 0; j < length; j++) s += alphabet[Math.floor(next() * alphabet.length)] ?? '';
      const r = checkEmail(s);
      assert.equal(typeof r.valid, 'boolean');
      if (r.normalized === null) assert.equal(r.reason, 'syntax');
    }
  });
});

describe('checkEmail: disposable domains', () => {
  it('flags domains on the maintained list as invalid', () => {
    const r = checkEmail('someone@Mailinator.com');
    assert.equal(r.normalized, 'someone@mailinator.com');
    assert.equal(r.disposable, true);
    assert.equal(r.valid, false);
    assert.equal(r.reason, 'disposable');
  });

  it('flags subdomains of wildcard disposable services', () => {
    assert.equal(isDisposableDomain('anything.33mail.com'), true);
    assert.equal(checkEmail('x@me.33mail.com').reason, 'disposable');
  });

  it('does not flag mainstream providers', () => {
    for (const domain of ['gmail.com', 'outlook.com', 'proton.me', 'wp.pl', 'gmx.de', 'example.com']) {
      assert.equal(isDisposableDomain(domain), false, domain);
    }
  });

  it('still suggests the intended provider when a typo domain is a known catch-all', () => {
    // gmai.com is on the disposable list precisely because people mistype gmail.com.
    const r = checkEmail('jane@gmai.com');
    assert.equal(r.reason, 'disposable');
    assert.equal(r.valid, false);
    assert.equal(r.suggestion, 'jane@gmail.com');
  });
});

describe('checkEmail: role addresses', () => {
  for (const local of ['admin', 'info', 'sales', 'noreply', 'no-reply', 'no_reply', 'postmaster', 'Support', 'webmaster', 'info+shop', 'mailer-daemon']) {
    it(`${local}@ is a role address`, () => {
      const r = checkEmail(`${local}@example.com`);
      assert.equal(r.role, true);
      assert.equal(r.valid, true);
      assert.equal(r.reason, 'role');
    });
  }

  it('people are not role addresses', () => {
    for (const local of ['jane', 'information.jones', 'salesman', 'adminx', 'john.info']) {
      assert.equal(isRoleLocalPart(local), false, local);
    }
  });

  it('a typo outranks a role, and disposable outranks both', () => {
    assert.equal(checkEmail('info@gmial.com').reason, 'typo');
    assert.equal(checkEmail('info@gmial.com').role, true);
    assert.equal(checkEmail('admin@mailinator.com').reason, 'disposable');
  });
});

describe('checkEmail: typo suggestions', () => {
  const cases: Array<[string, string]> = [
    ['gmial.com', 'gmail.com'],
    ['gmal.com', 'gmail.com'],
    ['gmaill.com', 'gmail.com'],
    ['gnail.com', 'gmail.com'],
    ['gmail.con', 'gmail.com'],
    ['gmail.cmo', 'gmail.com'],
    ['gmail.co', 'gmail.com'],
    ['gmial.con', 'gmail.com'],
    ['googlemial.com', 'googlemail.com'],
    ['hotmial.com', 'hotmail.com'],
    ['hotmal.com', 'hotmail.com'],
    ['hotmail.co', 'hotmail.com'],
    ['yaho.com', 'yahoo.com'],
    ['yahooo.com', 'yahoo.com'],
    ['yahoo.con', 'yahoo.com'],
    ['outlok.com', 'outlook.com'],
    ['outllook.com', 'outlook.com'],
    ['iclod.com', 'icloud.com'],
    ['aol.con', 'aol.com'],
    ['comcats.net', 'comcast.net'],
    ['protonmial.com', 'protonmail.com'],
    ['gmx.dee', 'gmx.de'],
    ['web.dr', 'web.de'],
    ['onet.pll', 'onet.pl'],
    ['intreia.pl', 'interia.pl'],
    ['yandex.rr', 'yandex.ru'],
    ['orange.fe', 'orange.fr'],
    ['btinternet.con', 'btinternet.com'],
  ];
  for (const [typo, fixed] of cases) {
    it(`${typo} -> ${fixed}`, () => {
      assert.equal(suggestDomain(typo), fixed);
      const r = checkEmail(`Jane@${typo.toUpperCase()}`);
      assert.equal(r.reason, 'typo');
      assert.equal(r.valid, true);
      assert.equal(r.suggestion, `jane@${fixed}`);
    });
  }

  it('never corrects a domain that is itself a known provider', () => {
    for (const domain of ['gmail.com', 'ymail.com', 'mail.com', 'email.com', 'gmx.at', 'gmx.net', 'o2.pl', 'op.pl', 'wp.pl', 'live.com', 'me.com', 'yahoo.co.uk', 'hotmail.co.uk']) {
      assert.equal(suggestDomain(domain), null, domain);
    }
  });

  it('leaves ordinary company domains alone', () => {
    for (const domain of ['acme.com', 'example.com', 'shop.co', 'gmailer.io', 'box.net', 'lemail.org', 'company.co.uk', 'coffee.co']) {
      assert.equal(suggestDomain(domain), null, domain);
    }
  });

  it('fixes .co only when the name is a popular provider', () => {
    assert.equal(suggestDomain('outlook.co'), 'outlook.com');
    assert.equal(suggestDomain('startup.co'), null);
  });
});

describe('damerauLevenshtein', () => {
  it('counts insertions, deletions, substitutions and swaps', () => {
    assert.equal(damerauLevenshtein('gmail.com', 'gmail.com'), 0);
    assert.equal(damerauLevenshtein('gmial.com', 'gmail.com'), 1);
    assert.equal(damerauLevenshtein('gmal.com', 'gmail.com'), 1);
    assert.equal(damerauLevenshtein('gnail.com', 'gmail.com'), 1);
    assert.equal(damerauLevenshtein('gmial.con', 'gmail.com'), 2);
    assert.equal(damerauLevenshtein('', 'abc'), 3);
    assert.equal(damerauLevenshtein('kitten', 'sitting'), 3);
  });

  it('stops early past the limit', () => {
    assert.equal(damerauLevenshtein('abcdef', 'uvwxyz', 2), 3);
    assert.equal(damerauLevenshtein('a', 'abcdefgh', 2), 3);
  });
});
