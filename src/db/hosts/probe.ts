/**
 * The probe the host selector runs against each host: a short-lived
 * connection (not one of the pool's) asking whether the host is in recovery
 * and whether its sessions are read-only, bounded by the connect timeout.
 *
 * @example
 * const probe = createPgProbe({ connectTimeoutMs: 2000, applicationName: 'holdfast-probe' });
 * await probe(host); // { inRecovery: false, readOnly: false }
 */
import pg from 'pg';
import type { HostConfig } from './url.ts';
import type { HostState } from './target.ts';
import type { Probe } from './selector.ts';

export function createPgProbe(options: { connectTimeoutMs: number; applicationName: string }): Probe {
  return async function probe(host: HostConfig): Promise<HostState> {
    const client = new pg.Client({
      connectionString: host.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: options.applicationName,
      query_timeout: options.connectTimeoutMs,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      const readOnly = await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
      return { inRecovery: recovery.rows[0]!.r, readOnly: readOnly.rows[0]!.transaction_read_only === 'on' };
    } finally {
      client.end().catch(() => {});
    }
  };
}
