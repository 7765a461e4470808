import { describe, expect, it } from 'vitest';
import { createAllowList } from '../../../src/guards/rate-limit/allow-list.ts';
import { bearerToken } from '../../../src/http/auth/bearer.ts';
import { hashApiKey } from '../../../src/guards/rate-limit/api-key.ts';
import { clientOfIp, parseIp } from '../../../src/guards/rate-limit/ip.ts';
import { createKeyer } from '../../../src/guards/rate-limit/key.ts';

const noAllow = createAllowList([]);
const keyOf = createKeyer(noAllow);
const fromIp = (ip: string, authorization?: string) => keyOf({ ip, headers: authorization === undefined ? {} : { authorization } });

describe('client keys from addresses', () => {
  it('keys IPv4 clients by address', () => {
    expect(fromIp('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(fromIp('203.0.113.8')).not.toBe(fromIp('203.0.113.7'));
  });

  it('normalises IPv4-mapped IPv6 to IPv4, in either spelling', () => {
    expect(fromIp('::ffff:203.0.113.7')).toBe('ip:203.0.113.7');
    expect(fromIp('::FFFF:cb00:7107')).toBe('ip:203.0.113.7');
    expect(fromIp('0:0:0:0:0:ffff:203.0.113.7')).toBe('ip:203.0.113.7');
  });

  it('groups IPv6 clients by /64, whatever the spelling', () => {
    const key = fromIp('2001:db8:1:2::1');
    expect(key).toBe('ip6:2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0000:0000:0000:0009', '2001:db8:1:2::42%eth0']) {
      expect(fromIp(same), same).toBe(key);
    }
    expect(fromIp('2001:db8:1:3::1')).toBe('ip6:2001:db8:1:3::/64');
    expect(fromIp('::1')).toBe('ip6:0:0:0:0::/64');
    expect(clientOfIp(parseIp('64:ff9b::192.0.2.1')!)).toBe('ip6:64:ff9b:0:0::/64');
  });

  it('rejects what is not an address and shares one quota for it', () => {
    expect(parseIp('not-an-ip')).toBeUndefined();
    expect(parseIp('1.2.3.256')).toBeUndefined();
    expect(fromIp('')).toBe('ip:unknown');
  });
});

describe('client keys from API keys', () => {
  it('keys on the verified API key name, whatever the address', () => {
    const key = keyOf({ ip: '203.0.113.7', headers: { authorization: 'Bearer sk_live_0123456789abcdef' }, apiKey: { name: 'partner' } });
    expect(key).toBe('key:partner');
    expect(keyOf({ ip: '198.51.100.1', headers: {}, apiKey: { name: 'partner' } })).toBe(key);
    expect(keyOf({ ip: '203.0.113.7', headers: {}, apiKey: { name: 'other' } })).not.toBe(key);
  });

  it('counts a bearer value that did not verify against the address, so invented keys buy no quota', () => {
    const secret = 'sk_live_0123456789abcdef';
    expect(fromIp('203.0.113.7', `Bearer ${secret}`)).toBe('ip:203.0.113.7');
    expect(fromIp('203.0.113.7', 'Bearer other')).toBe('ip:203.0.113.7');
    expect(keyOf({ ip: '203.0.113.7', headers: { authorization: `Bearer ${secret}` }, apiKey: null })).toBe('ip:203.0.113.7');
  });

  it('falls back to the address for other schemes or a malformed bearer value', () => {
    expect(fromIp('203.0.113.7', 'Basic dXNlcjpwYXNz')).toBe('ip:203.0.113.7');
    expect(fromIp('203.0.113.7', 'Bearer ')).toBe('ip:203.0.113.7');
    expect(fromIp('203.0.113.7', 'Bearer a b')).toBe('ip:203.0.113.7');
    expect(bearerToken('Bearer abc-._~+/=')).toBe('abc-._~+/=');
  });
});

describe('RATE_LIMIT_ALLOW', () => {
  const allowOf = createKeyer(
    createAllowList([
      '198.51.100.7',
      '10.0.0.0/8',
      '2001:db8:aaaa::/48',
      '::ffff:192.168.0.0/112',
      'sk_partner/with+slash=',
      'internal-key',
    ]),
  );
  const allowed = (ip: string, authorization?: string) =>
    allowOf({ ip, headers: authorization === undefined ? {} : { authorization } }) === undefined;

  it('exempts single addresses and IPv4 networks', () => {
    expect(allowed('198.51.100.7')).toBe(true);
    expect(allowed('198.51.100.8')).toBe(false);
    expect(allowed('10.255.1.2')).toBe(true);
    expect(allowed('::ffff:10.1.2.3')).toBe(true);
    expect(allowed('11.0.0.1')).toBe(false);
  });

  it('exempts IPv6 networks, and mapped-IPv4 networks as IPv4', () => {
    expect(allowed('2001:db8:aaaa:1::5')).toBe(true);
    expect(allowed('2001:db8:aaab::5')).toBe(false);
    expect(allowed('192.168.4.5')).toBe(true);
    expect(allowed('192.169.0.1')).toBe(false);
  });

  it('exempts API keys, including keys containing "/"', () => {
    expect(allowed('203.0.113.7', 'Bearer internal-key')).toBe(true);
    expect(allowed('203.0.113.7', 'Bearer sk_partner/with+slash=')).toBe(true);
    expect(allowed('203.0.113.7', 'Bearer internal-key2')).toBe(false);
    // An allowed address is never limited, whatever key it sends.
    expect(allowed('10.0.0.1', 'Bearer anything')).toBe(true);
  });

  it('exempts a key with any visible character, read from the header as API_KEYS reads it', () => {
    const punctuated = createKeyer(createAllowList(['pk!#$%&*+/=?^`{|}~0123']));
    expect(punctuated({ ip: '203.0.113.7', headers: { authorization: 'Bearer pk!#$%&*+/=?^`{|}~0123' } })).toBeUndefined();
    expect(punctuated({ ip: '203.0.113.7', headers: { authorization: 'Bearer pk!#$%&*+/=?^`{|}~0124' } })).toBe('ip:203.0.113.7');
    expect(bearerToken('Bearer pk!#$0123')).toBe('pk!#$0123');
  });

  it('refuses at start a key entry no request could present, without echoing it', () => {
    expect(() => createAllowList(['10.0.0.0/8', 'secret with space'])).toThrow(
      /RATE_LIMIT_ALLOW entry 2 is neither an address nor an API key/,
    );
    expect(() => createAllowList(['secret with space'])).not.toThrow(/secret/);
    expect(() => createAllowList(['clé-secrète'])).toThrow(/entry 1/);
    expect(createAllowList(['k!#$']).allowsKeyHash(hashApiKey('k!#$'))).toBe(true);
  });

  it('refuses a network with a bad prefix at start', () => {
    expect(() => createAllowList(['10.0.0.0/33'])).toThrow(/RATE_LIMIT_ALLOW entry "10.0.0.0\/33"/);
    expect(() => createAllowList(['2001:db8::/129'])).toThrow(/prefix length must be 0 to 128/);
    expect(() => createAllowList(['10.0.0.0/x'])).toThrow(/not a valid network/);
  });
});
