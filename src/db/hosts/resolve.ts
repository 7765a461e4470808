/**
 * The one host to run start-up work on (migrations, seeding) when
 * DATABASE_URL names several: pg cannot parse a multi-host URL, and
 * migrations must run on the primary, not on whichever host comes first.
 * A single-host URL is returned untouched.
 *
 * @example
 * const url = await resolveTargetUrl(config.database.url, logger); // the read-write host's own URL
 */
import type { Logger } from '../../log/logger.ts';
import { createHostSelector } from './selector.ts';
import { createPgProbe } from './probe.ts';
import { parseHostsUrl } from './url.ts';

/** Resolves with the single-host URL of the host matching target_session_attrs; rejects after `timeoutMs`. */
export async function resolveTargetUrl(url: string, logger: Pick<Logger, 'info' | 'warn'>, timeoutMs = 30_000): Promise<string> {
  const parsed = parseHostsUrl(url);
  if (parsed.hosts.length === 1 && parsed.target === 'any') return url;
  const probe = createPgProbe({ connectTimeoutMs: 2000, applicationName: 'holdfast-probe' });
  const selector = createHostSelector({ hosts: parsed.hosts, target: parsed.target, probe, logger });
  try {
    return (await selector.waitForHost(Date.now() + timeoutMs)).connectionString;
  } finally {
    selector.stop();
  }
}
