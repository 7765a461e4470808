/**
 * Times SQL statements the way the app runs them, for the query-tuning
 * before/after numbers.
 *
 * Each statement is a named prepared statement on one connection, as the
 * pool runs hot queries, so the plan measured is the one the app gets, generic
 * plan switch after the fifth run included. Variants run interleaved, round by
 * round, rather than one after another: the box is shared, and a burst of
 * someone else's load then hits every variant alike instead of whichever one
 * happened to be running. The first rounds are warm-up and are discarded.
 */
import pg from 'pg';
import { backgroundContext, type Context } from '../../src/context/context.ts';
import type { Queryable, Rows, Statement } from '../../src/db/types.ts';

/**
 * One statement to time.
 *
 * @example
 * const v: Variant = { name: 'offset', text: 'SELECT id FROM products ORDER BY id OFFSET $1 LIMIT 20', values: [99_980] };
 */
export interface Variant {
  name: string;
  text: string;
  values?: readonly unknown[];
  /** False: sent unnamed, so Postgres plans it afresh for each run's values (a custom plan). Default true. */
  prepared?: boolean;
}

/**
 * Client-side milliseconds per execution of one variant.
 *
 * @example
 * `${t.name}: median ${t.medianMs.toFixed(1)} ms over ${t.samples.length} runs`
 */
export interface Timing {
  name: string;
  samples: number[];
  medianMs: number;
  p90Ms: number;
  minMs: number;
  rows: number;
}

/**
 * The `q`-quantile (0..1) of `values`, by nearest rank.
 *
 * @example
 * quantile([5, 1, 3], 0.5) // 3
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Runs every variant `rounds` times, interleaved, after `warmup` untimed rounds.
 *
 * @example
 * const timings = await timeVariants(url, variants, { rounds: 15, warmup: 6 });
 */
export async function timeVariants(
  databaseUrl: string,
  variants: readonly Variant[],
  options: { rounds: number; warmup: number },
): Promise<Timing[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // surfaces through the awaited query instead
  await client.connect();
  try {
    const samples = variants.map(() => [] as number[]);
    const rows = variants.map(() => 0);
    // Six warm-up runs push each statement past the custom/generic plan decision.
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      for (const [i, v] of variants.entries()) {
        const started = performance.now();
        const result = await client.query({
          ...(v.prepared === false ? {} : { name: `qt-${i}` }),
          text: v.text,
          values: v.values === undefined ? [] : [...v.values],
        });
        const ms = performance.now() - started;
        if (round >= options.warmup) samples[i]!.push(ms);
        rows[i] = result.rowCount ?? 0;
      }
    }
    return variants.map((v, i) => ({
      name: v.name,
      samples: samples[i]!,
      medianMs: quantile(samples[i]!, 0.5),
      p90Ms: quantile(samples[i]!, 0.9),
      minMs: Math.min(...samples[i]!),
      rows: rows[i]!,
    }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The timings as a Markdown table.
 *
 * @example
 * console.log(timingTable(timings));
 */
export function timingTable(timings: readonly Timing[]): string {
  const lines = ['| variant | runs | median ms | p90 ms | min ms | rows |', '|---|---:|---:|---:|---:|---:|'];
  for (const t of timings) {
    lines.push(
      `| ${t.name} | ${t.samples.length} | ${t.medianMs.toFixed(1)} | ${t.p90Ms.toFixed(1)} | ${t.minMs.toFixed(1)} | ${t.rows} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The statement a store sends, without running it: `use` gets a stand-in for
 * the pool that records the statement and answers no rows. Timing what the
 * store builds, rather than a copy of its SQL, keeps the bench honest when
 * the store changes.
 *
 * @example
 * const statement = await captureStatement((db, ctx) => createProductStore(db).list(ctx, { limit: 20 }));
 */
export async function captureStatement(use: (db: Queryable, ctx: Context) => Promise<unknown>): Promise<Statement> {
  let seen: Statement | undefined;
  const recorder: Queryable = {
    query: async <R extends pg.QueryResultRow>(_ctx: Context, statement: Statement): Promise<Rows<R>> => {
      seen ??= statement;
      return { rows: [], rowCount: 0 };
    },
  };
  await use(recorder, backgroundContext('statement capture'));
  if (seen === undefined) throw new Error('the store sent no statement');
  return seen;
}

/**
 * A psql script that PREPAREs each variant and EXPLAINs (ANALYZE, BUFFERS)
 * it twice: its first, custom plan, then after five more runs, the plan a
 * long-lived pool connection settles on (generic, if Postgres switches).
 * Values are inlined as literals, which is all EXECUTE can take from psql.
 *
 * @example
 * console.log(explainScript(variants, '(timestamptz, bigint, integer)')); // pipe into psql
 */
export function explainScript(variants: readonly Variant[], parameterTypes: string): string {
  const literal = (v: unknown) =>
    v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${(typeof v === 'string' ? v : JSON.stringify(v)).replaceAll("'", "''")}'`;
  return variants
    .map((v, i) => {
      const args = (v.values ?? []).map(literal).join(', ');
      const execute = args === '' ? `EXECUTE v${i}` : `EXECUTE v${i}(${args})`;
      return [
        `\\echo '=== ${v.name.replaceAll("'", '')}: custom plan'`,
        `PREPARE v${i}${(v.values ?? []).length === 0 ? '' : parameterTypes} AS ${v.text};`,
        `EXPLAIN (ANALYZE, BUFFERS) ${execute};`,
        '\\o /dev/null',
        ...Array.from({ length: 5 }, () => `${execute};`),
        '\\o',
        `\\echo '=== ${v.name.replaceAll("'", '')}: after 6 runs'`,
        `EXPLAIN (ANALYZE, BUFFERS) ${execute};`,
      ].join('\n');
    })
    .join('\n');
}
