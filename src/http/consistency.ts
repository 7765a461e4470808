/**
 * Read-your-writes over HTTP (docs/FAILOVER.md, "Replica lag"): what the
 * HTTP layer needs when read replicas are configured. A write's answer
 * carries a signed `Consistency-Token` with the primary's WAL position after
 * the commit; a request sending it back has that position verified into its
 * Context (src/http/context.ts), where the replica router reads it.
 */
import type { FastifyReply } from 'fastify';
import type { Context } from '../context/context.ts';
import { CONSISTENCY_HEADER, type ConsistencyTokens } from '../db/replicas/consistency-token.ts';
import type { ReplicaState } from '../db/replicas/lag-sampler.ts';
import type { Logger } from '../log/logger.ts';

export interface ReadConsistency {
  tokens: ConsistencyTokens;
  /** The primary's WAL position now (read after the write committed). */
  currentLsn(ctx: Context): Promise<bigint>;
  /** Each replica's state, for /api/health. */
  replicas(): readonly ReplicaState[];
}

/**
 * Sets `Consistency-Token` on a successful write's answer. Called after the
 * commit; if the position cannot be read (the primary went away just then),
 * the committed write is still answered, without a token, and logged.
 *
 * @example
 * const placed = await orders.place(ctx, body);
 * await sendConsistencyToken(reply, ctx, consistency, request.log);
 */
export async function sendConsistencyToken(
  reply: FastifyReply,
  ctx: Context,
  consistency: ReadConsistency | undefined,
  log: Pick<Logger, 'warn'>,
): Promise<void> {
  if (consistency === undefined) return;
  try {
    reply.header(CONSISTENCY_HEADER, consistency.tokens.issue(await consistency.currentLsn(ctx)));
  } catch (err) {
    log.warn({ err }, 'could not read the WAL position after a write: answered without a Consistency-Token');
  }
}
