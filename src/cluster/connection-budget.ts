/**
 * Checks, before any worker is forked, that every worker's pool can open
 * DB_POOL_MAX connections without running the server out of them.
 *
 * Each worker has its own pool, so WEB_CONCURRENCY multiplies DB_POOL_MAX.
 * Past the server's limit, the pools do not fail at start (they open only
 * DB_POOL_MIN) but under load, when connections are needed most: the server
 * refuses new ones ("too many clients already") and requests fail. Checking
 * the arithmetic once at start turns that into a clear error before any
 * traffic.
 *
 * What the server leaves for us: `max_connections`, minus the slots it keeps
 * for superusers (`superuser_reserved_connections`) and, from PostgreSQL 16,
 * for `pg_use_reserved_connections` roles (`reserved_connections`), minus
 * DB_CONNECTION_HEADROOM for everything else (migrations, psql, monitoring,
 * other instances' budgets if you count them there).
 */

/** Anything that runs one statement without a request context: a `pg.Client`. */
export interface SettingsSource {
  query(statement: { text: string }): Promise<{ rows: unknown[] }>;
}

/** The server's limits, as read by {@link readServerLimits}. */
export interface ServerLimits {
  maxConnections: number;
  superuserReserved: number;
  /** `reserved_connections` (PostgreSQL 16+); 0 on older servers. */
  reserved: number;
}

export interface BudgetInput {
  workers: number;
  poolMax: number;
  headroom: number;
}

/** The outcome, with every number the message names. */
export interface Budget extends ServerLimits, BudgetInput {
  /** Connections the pools may open: limits minus reserves minus headroom. */
  available: number;
  /** workers × poolMax. */
  needed: number;
  fits: boolean;
}

/** The pools would need more connections than the server leaves them. Exit code 2, like bad config. */
export class ConnectionBudgetError extends Error {
  readonly budget: Budget;

  constructor(budget: Budget) {
    super(describeShortfall(budget));
    this.name = 'ConnectionBudgetError';
    this.budget = budget;
  }
}

/**
 * Reads the limits with `current_setting`, which is `SHOW` usable in a
 * SELECT; `reserved_connections` is read with `missing_ok` for servers
 * before 16.
 *
 * @example
 * const limits = await readServerLimits(client); // { maxConnections: 100, superuserReserved: 3, reserved: 0 }
 */
export async function readServerLimits(db: SettingsSource): Promise<ServerLimits> {
  const { rows } = await db.query({
    text: `SELECT current_setting('max_connections') AS max,
                  current_setting('superuser_reserved_connections') AS superuser,
                  current_setting('reserved_connections', true) AS reserved`,
  });
  const row = rows[0] as { max: string; superuser: string; reserved: string | null } | undefined;
  if (row === undefined) throw new Error('the server returned no settings');
  return { maxConnections: Number(row.max), superuserReserved: Number(row.superuser), reserved: Number(row.reserved ?? 0) };
}

/**
 * The arithmetic, without I/O.
 *
 * @example
 * computeBudget({ maxConnections: 100, superuserReserved: 3, reserved: 0 }, { workers: 2, poolMax: 40, headroom: 10 });
 * // { available: 87, needed: 80, fits: true, ... }
 */
export function computeBudget(limits: ServerLimits, input: BudgetInput): Budget {
  const available = limits.maxConnections - limits.superuserReserved - limits.reserved - input.headroom;
  const needed = input.workers * input.poolMax;
  return { ...limits, ...input, available, needed, fits: needed <= available };
}

/**
 * Throws {@link ConnectionBudgetError} when the pools do not fit; returns the budget otherwise.
 *
 * @example
 * const budget = await assertConnectionBudget(client, { workers: 2, poolMax: 40, headroom: 10 });
 * logger.info(budget, describeBudget(budget));
 */
export async function assertConnectionBudget(db: SettingsSource, input: BudgetInput): Promise<Budget> {
  const budget = computeBudget(await readServerLimits(db), input);
  if (!budget.fits) throw new ConnectionBudgetError(budget);
  return budget;
}

/**
 * One line for the start-up log.
 *
 * @example
 * describeBudget(budget) // 'connection budget: 2 workers × DB_POOL_MAX 40 = 80 of 87 (max_connections 100 − 3 superuser-reserved − 0 reserved − headroom 10)'
 */
export function describeBudget(b: Budget): string {
  return `connection budget: ${b.workers} workers × DB_POOL_MAX ${b.poolMax} = ${b.needed} of ${b.available} (${limitsFormula(b)})`;
}

function limitsFormula(b: Budget): string {
  return `max_connections ${b.maxConnections} − ${b.superuserReserved} superuser-reserved − ${b.reserved} reserved − headroom ${b.headroom}`;
}

function describeShortfall(b: Budget): string {
  const fixes: string[] = [];
  const perWorker = Math.floor(b.available / b.workers);
  if (perWorker >= 1) fixes.push(`lower DB_POOL_MAX to ${perWorker} or less`);
  const workersThatFit = Math.floor(b.available / b.poolMax);
  if (workersThatFit >= 1) fixes.push(`lower WEB_CONCURRENCY to ${workersThatFit} or less`);
  fixes.push(`raise max_connections on the server (to at least ${b.maxConnections + b.needed - b.available})`);
  if (b.headroom > 0) fixes.push('lower DB_CONNECTION_HEADROOM');
  fixes.push('or put PgBouncer in transaction mode in front (DB_PREPARED_STATEMENTS=false; see docs/SCALING.md)');
  return (
    `Connection budget exceeded: WEB_CONCURRENCY=${b.workers} workers × DB_POOL_MAX=${b.poolMax} = ${b.needed} connections, ` +
    `but the server leaves ${b.available} (${limitsFormula(b)}).\n` +
    `  To fix: ${fixes.join('; ')}.`
  );
}
