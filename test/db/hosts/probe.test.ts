import { describe, expect, inject, it } from 'vitest';
import { createPgProbe } from '../../../src/db/hosts/probe.ts';
import { parseHostsUrl } from '../../../src/db/hosts/url.ts';

describe('pg probe (real server)', () => {
  it('reports the shared test server as a writable primary', async () => {
    const [host] = parseHostsUrl(inject('databaseAdminUrl')).hosts;
    const probe = createPgProbe({ connectTimeoutMs: 2000, applicationName: 'holdfast-probe-test' });
    await expect(probe(host!)).resolves.toEqual({ inRecovery: false, readOnly: false });
  });

  it('rejects (does not hang) when the host refuses connections', async () => {
    const probe = createPgProbe({ connectTimeoutMs: 2000, applicationName: 'holdfast-probe-test' });
    await expect(
      probe({ label: '127.0.0.1:1', address: '127.0.0.1', port: 1, connectionString: 'postgres://u@127.0.0.1:1/db' }),
    ).rejects.toThrow();
  });
});
