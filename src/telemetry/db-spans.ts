/**
 * Database spans, built from what the pool already reports rather than from
 * inside it: the pool's `onQuery` hook gives each statement's context, wait
 * and run time after the fact, so the acquire and statement spans are
 * created with explicit start and end times. Not @opentelemetry/
 * instrumentation-pg: it cannot see our queue (acquire wait and outcome) nor
 * that one statement served a batch of requests, and it patches `pg` at load
 * time.
 *
 * - `pool acquire`: the wait for a connection (only when there was one: a
 *   statement of a transaction reports 0), and failed acquires
 *   (POOL_TIMEOUT, POOL_QUEUE_FULL, …), seen by the Database decorator.
 * - the statement: `db.system.name=postgresql`, `db.query.text` = the
 *   profiler's fingerprint (literals removed), `db.response.returned_rows`.
 * - a batch (src/store/batch/): one statement span, a child of its first
 *   traced member and linked to every member's span; each member gets a
 *   `batch wait` span linked to the statement.
 * - `transaction`: the parent of BEGIN … COMMIT, with its acquire.
 *
 * Acquire and statement spans name the pool that served them
 * (`db.client.connection.pool.name`, as its metrics do), its role
 * (`holdfast.db.role`: primary or replica) and, when it
 * connects to one fixed host, that host (`server.address`, `server.port`);
 * a statement of a multi-host primary is labelled with the host it ran on
 * (the pool reports it), which moves on a failover.
 * Every pool shares the profiler's hook, so each gets its own `onQuery`
 * carrying its labels: the primary's is `onQuery`, a replica's
 * `onQueryOf(poolLabels(name, url, 'replica'))`; a read routed to a replica is then
 * labelled with the replica, not with the primary.
 *
 * From the database back to the trace (`comments`, DB_TRACE_COMMENTS): a
 * statement of a sampled trace is sent with a sqlcommenter comment,
 * `/*traceparent='00-<trace>-<span>-01'*\/`, so pg_stat_activity, the
 * slow-query log and auto_explain show which trace it belongs to. A comment
 * that changes per request cannot be part of a named prepared statement
 * (one text per name), so such a statement goes unnamed: parsed and
 * planned once more. Only statements of sampled traces pay it (a batch
 * when any member is sampled); docs/OBSERVABILITY.md has the trade-off.
 *
 * Only sampled traces cost anything beyond one branch.
 *
 * @example
 * const spans = dbSpans(tracing);
 * const pool = createPool({ …, onQuery: (e) => { profiler.onQuery(e); spans.onQuery(e); } });
 * const db = spans.database(pool); // hand this to the stores
 * const replica = createPool({ …, onQuery: spans.onQueryOf(poolLabels('10.0.0.7:5432', replicaUrl, 'replica')) });
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import type { QueryResultRow } from 'pg';
import { tracedMembersOf, type Context, type TraceRef } from '../context/context.ts';
import type { Priority } from '../context/priority.ts';
import type { QueryEvent } from '../db/pool/pool.ts';
import { parseHostsUrl } from '../db/hosts/url.ts';
import type { Database, QueryOptions, Rows, Statement, Transaction } from '../db/types.ts';
import { isAppError } from '../errors/app-error.ts';
import { createFingerprinter } from '../profiler/fingerprint.ts';
import { isUnprofiled, unprofiled } from '../profiler/unprofiled.ts';
import { epochMs, parentOf, refOf, type Tracing } from './tracer.ts';
import { PRIMARY_POOL_NAME } from './pool-meter.ts';

/** Codes the pool refuses an acquire with: the outcome of a failed `pool acquire` span. */
const ACQUIRE_FAILURES = ['POOL_TIMEOUT', 'POOL_QUEUE_FULL', 'POOL_EXHAUSTED', 'POOL_OVERLOADED', 'POOL_CLOSED'] as const;

/** A pool as its spans name it. */
export interface PoolLabels {
  /** `db.client.connection.pool.name`: PRIMARY_POOL_NAME, or a replica's name (replicaName, src/db/replicas/replica-set.ts). */
  readonly name: string;
  /** `holdfast.db.role`: the pool of DATABASE_URL (writes, and reads with no replica) or a read replica's. */
  readonly role: 'primary' | 'replica';
  /** `server.address` and `server.port`, when the pool connects to one fixed host. */
  readonly server?: { readonly address: string; readonly port: number } | undefined;
}

export interface DbSpans {
  /** Pass to the primary pool's `onQuery` (after the profiler). Never throws. */
  onQuery(event: QueryEvent): void;
  /** The `onQuery` of another pool (a replica's), whose spans carry its labels. Never throws. */
  onQueryOf(pool: PoolLabels): (event: QueryEvent) => void;
  /** `db` with transaction spans and failed-acquire spans (the primary's: replica reads that fail are retried there). */
  database(db: Database): Database;
}

/**
 * The labels of a pool named `name` on `url`: its host and port only when
 * the URL names one host (several hosts, a socket directory or an
 * unparsable URL leave them out). Never the user or password.
 *
 * @example
 * poolLabels('holdfast', 'postgres://app:secret@db.internal/holdfast', 'primary'); // { name: 'holdfast', role: 'primary', server: { address: 'db.internal', port: 5432 } }
 */
export function poolLabels(name: string, url: string | undefined, role: PoolLabels['role']): PoolLabels {
  try {
    // The pool's own parser (it labels hosts the same way); it throws on what it cannot use.
    const { hosts } = parseHostsUrl(url ?? '');
    // `?host=` overrides the authority in pg's parser: a socket directory or another host, so no fixed one here.
    if (hosts.length !== 1 || /[?&]host=/.test(url ?? '')) return { name, role };
    const { address, port } = hosts[0]!;
    return { name, role, server: { address, port } };
  } catch {
    return { name, role };
  }
}

function attributesOf(pool: PoolLabels): Attributes {
  const attributes: Attributes = { 'db.client.connection.pool.name': pool.name, 'holdfast.db.role': pool.role };
  if (pool.server !== undefined) {
    attributes['server.address'] = pool.server.address;
    attributes['server.port'] = pool.server.port;
  }
  return attributes;
}

interface Anchor {
  parent: TraceRef;
  /** Every traced member of a batch; undefined for one request. */
  members?: readonly TraceRef[];
}

/** Where a statement's spans hang: the context's span, or a batch's first sampled member. */
function anchorOf(ctx: Context): Anchor | undefined {
  if (ctx.trace !== undefined) return ctx.trace.sampled ? { parent: ctx.trace } : undefined;
  const members = tracedMembersOf(ctx);
  if (members === undefined) return undefined;
  const refs = members.flatMap((m) => (m.trace?.sampled === true ? [m.trace] : []));
  return refs[0] === undefined ? undefined : { parent: refs[0], members: refs };
}

/**
 * @example
 * const spans = dbSpans(tracing);
 */
export function dbSpans(tracing: Tracing, options: { comments?: boolean; primary?: PoolLabels } = {}): DbSpans {
  const comments = options.comments ?? true;
  const primaryPool = options.primary ?? { name: PRIMARY_POOL_NAME, role: 'primary' };
  const primary = attributesOf(primaryPool);
  const { tracer } = tracing;
  const fingerprints = createFingerprinter({ maxEntries: 1000 });
  /** Transactions whose acquire span waits for their first statement (its start ends the wait). */
  const acquiring = new WeakMap<Context, number>();

  function acquireSpan(parent: TraceRef, pool: Attributes, priority: Priority, startMs: number, endMs: number, outcome: string): void {
    const span = tracer.startSpan(
      'pool acquire',
      {
        kind: SpanKind.INTERNAL,
        startTime: epochMs(startMs),
        attributes: {
          'db.system.name': 'postgresql',
          ...pool,
          'holdfast.pool.priority': priority,
          'holdfast.pool.wait_ms': endMs - startMs,
          'holdfast.pool.outcome': outcome,
        },
      },
      parentOf(parent),
    );
    if (outcome !== 'acquired') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.end(epochMs(endMs));
  }

  function report(event: QueryEvent, labelsOf: (event: QueryEvent) => Attributes): void {
    try {
      const anchor = anchorOf(event.ctx);
      if (anchor === undefined) return;
      const pool = labelsOf(event);
      const end = performance.now();
      const start = end - event.durationMs;
      const txStart = acquiring.get(event.ctx);
      if (txStart !== undefined) {
        acquiring.delete(event.ctx);
        acquireSpan(anchor.parent, pool, event.ctx.priority, txStart, start, 'acquired');
      } else if (event.waitMs > 0) {
        acquireSpan(anchor.parent, pool, event.ctx.priority, start - event.waitMs, start, 'acquired');
      }
      const fp = fingerprints.of(event.statement.text);
      const links: Link[] | undefined = anchor.members?.map((m) => ({ context: spanContextOf(m) }));
      const span = tracer.startSpan(
        event.statement.name ?? fp.command.toUpperCase(),
        {
          kind: SpanKind.CLIENT,
          startTime: epochMs(start),
          links,
          attributes: {
            'db.system.name': 'postgresql',
            'db.operation.name': fp.command.toUpperCase(),
            'db.query.text': fp.text,
            'db.response.returned_rows': event.rowCount,
            ...pool,
            'holdfast.db.fingerprint': fp.id,
            ...(anchor.members === undefined ? {} : { 'holdfast.batch.size': anchor.members.length }),
          },
        },
        parentOf(anchor.parent),
      );
      if (event.error !== undefined) failed(span, event.error);
      span.end(epochMs(end));
      if (anchor.members !== undefined) {
        const batch = { context: span.spanContext() };
        for (const member of anchor.members) {
          tracer
            .startSpan(
              'batch wait',
              { startTime: epochMs(start - event.waitMs), links: [batch], attributes: { 'holdfast.batch.size': anchor.members.length } },
              parentOf(member),
            )
            .end(epochMs(end));
        }
      }
    } catch {
      // Tracing must never fail a statement.
    }
  }

  function database(db: Database): Database {
    return {
      query<R extends QueryResultRow>(ctx: Context, statement: Statement, options?: QueryOptions): Promise<Rows<R>> {
        const anchor = anchorOf(ctx);
        if (anchor === undefined) return db.query<R>(ctx, statement, options);
        const started = performance.now();
        const sent = comments ? commented(statement, anchor.parent) : statement;
        return db.query<R>(ctx, sent, options).catch((err: unknown) => {
          if (isAppError(err, ...ACQUIRE_FAILURES)) acquireSpan(anchor.parent, primary, ctx.priority, started, performance.now(), err.code);
          throw err;
        });
      },
      async transaction<T>(ctx: Context, fn: (tx: Transaction) => Promise<T>): Promise<T> {
        const anchor = anchorOf(ctx);
        if (anchor === undefined) return db.transaction(ctx, fn);
        const span = tracer.startSpan('transaction', { kind: SpanKind.INTERNAL }, parentOf(anchor.parent));
        const txCtx: Context = { ...ctx, trace: refOf(span) };
        const started = performance.now();
        acquiring.set(txCtx, started);
        try {
          const ref = refOf(span);
          return await db.transaction(txCtx, comments ? (tx) => fn(commentingTransaction(tx, ref)) : fn);
        } catch (err) {
          if (isAppError(err, ...ACQUIRE_FAILURES) && acquiring.has(txCtx)) {
            acquireSpan(refOf(span), primary, txCtx.priority, started, performance.now(), err.code);
          }
          failed(span, err);
          throw err;
        } finally {
          acquiring.delete(txCtx);
          span.end();
        }
      },
    };
  }

  // The primary with several hosts: each host's labels, made once.
  const byHost = new Map<string, Attributes>();
  function primaryLabels(event: QueryEvent): Attributes {
    const host = event.host;
    if (host === undefined) return primary;
    let labels = byHost.get(host.label);
    if (labels === undefined) {
      labels = attributesOf({ ...primaryPool, server: { address: host.address, port: host.port } });
      byHost.set(host.label, labels);
    }
    return labels;
  }

  return {
    onQuery: (event) => report(event, primaryLabels),
    onQueryOf(pool) {
      const labels = attributesOf(pool);
      const labelsOf = () => labels;
      return (event) => report(event, labelsOf);
    },
    database,
  };
}

/**
 * `statement` with a sqlcommenter traceparent comment, unnamed (see the header).
 *
 * @example
 * commented({ name: 'products-get', text: 'SELECT …', values: [7] }, ref).text; // "SELECT … /*traceparent='00-…-01'*\/"
 */
export function commented(statement: Statement, ref: TraceRef): Statement {
  const comment = `/*traceparent='00-${ref.traceId}-${ref.spanId}-01'*/`;
  const sent: Statement =
    statement.values === undefined
      ? { text: `${statement.text} ${comment}` }
      : { text: `${statement.text} ${comment}`, values: statement.values };
  return isUnprofiled(statement) ? unprofiled(sent) : sent;
}

function commentingTransaction(tx: Transaction, ref: TraceRef): Transaction {
  return { query: (statement, options) => tx.query(commented(statement, ref), options) };
}

function spanContextOf(ref: TraceRef): SpanContext {
  return { traceId: ref.traceId, spanId: ref.spanId, traceFlags: ref.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
}

function failed(span: Span, err: unknown): void {
  const code = isAppError(err) ? err.code : ((err as { code?: string } | null)?.code ?? 'error');
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}
