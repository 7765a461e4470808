import { describe, expect, it } from 'vitest';
import { parseHostsUrl, redactHostsUrl } from '../../../src/db/hosts/url.ts';
import { postgresUrl } from '../../../src/config/kinds.ts';

describe('parseHostsUrl', () => {
  it('passes the single-host form on untouched (target any, as libpq)', () => {
    const url = 'postgres://app:s3cret@db.internal:5432/shop?sslmode=disable&application_name=x';
    const parsed = parseHostsUrl(url);
    expect(parsed.target).toBe('any');
    expect(parsed.hosts).toEqual([{ label: 'db.internal:5432', address: 'db.internal', port: 5432, connectionString: url }]);
    expect(parseHostsUrl('postgresql://db/shop').hosts[0]!.label).toBe('db:5432');
  });

  it('splits the multi-host form into one URL per host, read-write by default', () => {
    const parsed = parseHostsUrl('postgres://app:p%40ss@h1:5432,h2:5433,h3/shop?sslmode=disable');
    expect(parsed.target).toBe('read-write');
    expect(parsed.hosts).toEqual([
      { label: 'h1:5432', address: 'h1', port: 5432, connectionString: 'postgres://app:p%40ss@h1:5432/shop?sslmode=disable' },
      { label: 'h2:5433', address: 'h2', port: 5433, connectionString: 'postgres://app:p%40ss@h2:5433/shop?sslmode=disable' },
      { label: 'h3:5432', address: 'h3', port: 5432, connectionString: 'postgres://app:p%40ss@h3/shop?sslmode=disable' },
    ]);
  });

  it('takes target_session_attrs out of the query, which pg would not know', () => {
    for (const target of ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const) {
      const parsed = parseHostsUrl(`postgres://u@h1,h2:6000/db?a=1&target_session_attrs=${target}&b=2`);
      expect(parsed.target).toBe(target);
      expect(parsed.hosts.map((h) => h.connectionString)).toEqual(['postgres://u@h1/db?a=1&b=2', 'postgres://u@h2:6000/db?a=1&b=2']);
    }
    const single = parseHostsUrl('postgres://u@h1/db?target_session_attrs=primary');
    expect(single).toEqual({
      target: 'primary',
      hosts: [{ label: 'h1:5432', address: 'h1', port: 5432, connectionString: 'postgres://u@h1/db' }],
    });
  });

  it('handles IPv6 hosts and URLs without user or database', () => {
    const parsed = parseHostsUrl('postgres://[::1]:5440,127.0.0.1:5441');
    expect(parsed.hosts.map((h) => h.label)).toEqual(['[::1]:5440', '127.0.0.1:5441']);
    expect(parsed.hosts.map((h) => [h.address, h.port])).toEqual([
      ['::1', 5440],
      ['127.0.0.1', 5441],
    ]);
    expect(parsed.hosts[1]!.connectionString).toBe('postgres://127.0.0.1:5441');
  });

  it('rejects malformed URLs without quoting the password', () => {
    const cases = [
      'mysql://u:topsecret@h/db',
      'postgres://u:topsecret@h1,,h2/db',
      'postgres://u:topsecret@h1,h2/db?target_session_attrs=master',
      'postgres://u:topsecret@:5432,h2/db',
    ];
    for (const url of cases) {
      expect(() => parseHostsUrl(url)).toThrow();
      try {
        parseHostsUrl(url);
      } catch (err) {
        expect((err as Error).message).not.toContain('topsecret');
      }
    }
  });
});

describe('DATABASE_URL kind and redaction', () => {
  it('accepts the multi-host form that WHATWG URL parsing rejects, and never shows the password', () => {
    const kind = postgresUrl('bad');
    const multi = 'postgres://app:topsecret@h1:5432,h2:5433/shop?target_session_attrs=read-write&sslpassword=x';
    expect(kind.parse(multi)).toEqual({ ok: true, value: multi });
    expect(kind.parse('postgres://app:topsecret@h1,h2/shop?target_session_attrs=nope')).toMatchObject({ ok: false });
    expect(kind.show!(multi)).toBe('postgres://app:***@h1:5432,h2:5433/shop?target_session_attrs=read-write&sslpassword=***');
    expect(redactHostsUrl('postgres://app@h1/shop')).toBe('postgres://app@h1/shop');
  });
});
