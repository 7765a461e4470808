/**
 * Which contender runs which endpoint at which concurrency, in what order,
 * and how long that will take: decided up front and printed before the
 * first request, so a run's length is never a surprise. Pure.
 *
 * Order: the constant server first (nothing to warm), the two peers, then
 * each Holdfast variant, the pool-size sweep, and pgbench last (it needs no
 * HTTP server). One contender at a time, never two at once.
 */
import { OTLP_SINK } from './otlp-sink.ts';
import { pathFor, type DeepPage, type EndpointId, type ServerKind } from './endpoints.ts';

/**
 * The contenders, in the order they run.
 *
 * @example
 * const kind: ContenderKind = 'pgbench';
 */
export const CONTENDER_KINDS = ['fastify-constant', 'fastify-pg', 'express-naive', 'holdfast', 'pgbench'] as const;
/** @example const kind: ContenderKind = 'holdfast'; */
export type ContenderKind = (typeof CONTENDER_KINDS)[number];

/**
 * The letters for each contender.
 *
 * @example
 * LETTERS['fastify-pg']; // 'b'
 */
export const LETTERS: Readonly<Record<ContenderKind, string>> = Object.freeze({
  holdfast: 'a',
  'fastify-pg': 'b',
  'express-naive': 'c',
  pgbench: 'd',
  'fastify-constant': 'e',
});

/**
 * One HTTP server to start, with what to run against it.
 *
 * @example
 * const run: ServerRun = { label: 'fastify-pg', kind: 'fastify-pg', env: {}, cells: [{ endpoint: 'product', concurrency: 100 }], resilience: false };
 */
export interface ServerRun {
  /** e.g. `holdfast`, `holdfast (adaptive off)`, `holdfast (adaptive on, batching off)`, `holdfast pool 10`. */
  label: string;
  kind: ServerKind;
  /** Environment on top of the kind's defaults (Holdfast variants). */
  env: Record<string, string>;
  cells: { endpoint: EndpointId; concurrency: number }[];
  /** Run the sustained c=1000 check after the cells (the reference Holdfast only). */
  resilience: boolean;
  /** Part of the DB_POOL_MAX sweep. */
  sweepPoolSize?: number;
  /** Which round of the sweep (1-based). */
  sweepRound?: number;
  /** With `--rounds`: which round of the whole plan (1-based). */
  round?: number;
}

/** @example const plan: BenchPlan = buildPlan({ … }); plan.servers.length; */
export interface BenchPlan {
  servers: ServerRun[];
  /** pgbench client counts (empty when pgbench is not selected). */
  pgbenchClients: number[];
  /** Label of the Holdfast run every ratio is taken against. */
  reference: string;
  estimateS: number;
}

/** @example const options: PlanOptions = { contenders: [...CONTENDER_KINDS], endpoints: ['health'], concurrency: [100], … }; */
export interface PlanOptions {
  contenders: readonly ContenderKind[];
  endpoints: readonly EndpointId[];
  concurrency: readonly number[];
  pgbenchClients: readonly number[];
  /** DB_ADAPTIVE_LIMIT values to run Holdfast with; empty: leave it to the config default. */
  adaptive: readonly boolean[];
  /** DB_BATCH_READS values, crossed with `adaptive`; empty: the config default. */
  batch: readonly boolean[];
  poolSizes: readonly number[];
  /** Trace sampling ratios (0: tracing off), crossed with the others; exported to a local sink (otlp-sink.ts). */
  tracing?: readonly number[];
  /** CACHE_ENABLED values, crossed with the others; empty: the config default. */
  cache?: readonly boolean[];
  /** Times every contender and variant runs, round-robin; absent or 1: once. */
  rounds?: number;
  /** Times the pool sweep runs each size, interleaved (see sweep.ts). */
  sweepRounds: number;
  durationMs: number;
  warmupMs: number;
  /** Length of the sustained c=1000 check; 0 skips it. */
  sustainMs: number;
  /** Length of the open-model overload at 2× capacity (overload.ts); 0 or absent skips it. */
  overloadMs?: number;
  deep: DeepPage;
}

/** Rough cost of starting and stopping one server, for the estimate. */
const START_STOP_S = 4;

/**
 * @example
 * const plan = buildPlan({ contenders: ['holdfast', 'fastify-constant'], endpoints: ['health'], concurrency: [100], pgbenchClients: [], adaptive: [], batch: [], poolSizes: [], sweepRounds: 1, durationMs: 3000, warmupMs: 1000, sustainMs: 0, deep });
 */
export function buildPlan(options: PlanOptions): BenchPlan {
  const servers: ServerRun[] = [];
  const cellsFor = (kind: ServerKind, endpoints: readonly EndpointId[]) =>
    endpoints
      .filter((e) => pathFor(kind, e, options.deep) !== undefined)
      .flatMap((endpoint) => options.concurrency.map((concurrency) => ({ endpoint, concurrency })));
  const has = (k: ContenderKind) => options.contenders.includes(k);

  const rounds = options.rounds ?? 1;
  // Round-robin over every contender and variant, so that a burst of someone else's load falls on all alike.
  for (let round = 1; round <= rounds; round++) {
    const tag = rounds > 1 ? { round } : {};
    for (const kind of ['fastify-constant', 'fastify-pg', 'express-naive'] as const) {
      if (!has(kind)) continue;
      const cells = cellsFor(kind, options.endpoints);
      if (cells.length > 0) servers.push({ label: kind, kind, env: {}, cells, resilience: false, ...tag });
    }
    if (!has('holdfast')) continue;
    holdfastVariants(options.adaptive, options.batch, options.tracing, options.cache).forEach(({ label, env }, i) => {
      servers.push({
        label,
        kind: 'holdfast',
        env,
        cells: cellsFor('holdfast', options.endpoints),
        resilience: round === 1 && i === 0 && (options.sustainMs > 0 || (options.overloadMs ?? 0) > 0),
        ...tag,
      });
    });
  }
  let reference = 'holdfast';
  if (has('holdfast')) {
    const variants = holdfastVariants(options.adaptive, options.batch, options.tracing, options.cache);
    reference = variants[0]!.label;
    const first = variants[0]!.env;
    // Round-robin, so a burst of someone else's load falls on every size alike.
    for (let round = 1; round <= (options.poolSizes.length > 0 ? options.sweepRounds : 0); round++) {
      for (const size of options.poolSizes) {
        servers.push({
          label: `holdfast pool ${size}`,
          kind: 'holdfast',
          env: { ...first, DB_POOL_MAX: String(size), DB_POOL_MIN: String(Math.min(5, size)) },
          cells: cellsFor('holdfast', ['product']),
          resilience: false,
          sweepPoolSize: size,
          sweepRound: round,
        });
      }
    }
  }
  const pgbenchClients = has('pgbench') && options.endpoints.includes('product') ? [...options.pgbenchClients] : [];

  const cellS = (options.warmupMs + options.durationMs) / 1000;
  const overloadMs = options.overloadMs ?? 0;
  const sustainS =
    (options.sustainMs > 0 ? options.warmupMs + options.durationMs + options.sustainMs : 0) / 1000 +
    (overloadMs > 0 ? options.warmupMs + 2 * options.durationMs + overloadMs + 1000 : 0) / 1000;
  const estimateS = Math.round(
    servers.reduce((sum, s) => sum + START_STOP_S + s.cells.length * cellS + (s.resilience ? sustainS : 0), 0) +
      pgbenchClients.length * (options.durationMs / 1000 + 1),
  );
  return { servers, pgbenchClients, reference, estimateS };
}

/**
 * One Holdfast run per combination of the settings given, in the order
 * given (the first is the reference); one plain run when none is.
 *
 * @example
 * holdfastVariants([true], [true, false]).map((v) => v.label);
 * // ['holdfast (adaptive on, batching on)', 'holdfast (adaptive on, batching off)']
 */
export function holdfastVariants(
  adaptive: readonly boolean[],
  batch: readonly boolean[],
  tracing: readonly number[] = [],
  cache: readonly boolean[] = [],
): { label: string; env: Record<string, string> }[] {
  const axes = [
    { name: 'adaptive', variable: 'DB_ADAPTIVE_LIMIT', values: adaptive },
    { name: 'batching', variable: 'DB_BATCH_READS', values: batch },
    { name: 'cache', variable: 'CACHE_ENABLED', values: cache },
  ].filter((a) => a.values.length > 0);
  let variants: { parts: string[]; env: Record<string, string> }[] = [{ parts: [], env: {} }];
  for (const axis of axes) {
    variants = variants.flatMap((v) =>
      axis.values.map((on) => ({
        parts: [...v.parts, `${axis.name} ${on ? 'on' : 'off'}`],
        env: { ...v.env, [axis.variable]: String(on) },
      })),
    );
  }
  if (tracing.length > 0) {
    variants = variants.flatMap((v) =>
      tracing.map((ratio) => ({
        parts: [...v.parts, ratio === 0 ? 'tracing off' : `tracing ${ratio * 100}%`],
        env: ratio === 0 ? v.env : { ...v.env, ...tracingEnv(ratio) },
      })),
    );
  }
  return variants.map((v) => ({ label: v.parts.length === 0 ? 'holdfast' : `holdfast (${v.parts.join(', ')})`, env: v.env }));
}

/** Holdfast's env for tracing at `ratio`, exporting to the bench's sink (its URL filled in at start). */
function tracingEnv(ratio: number): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_SINK,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  };
}

/** `--contenders` parsed, in canonical order. @example parseContenders('pgbench,holdfast'); // ['holdfast', 'pgbench'] */
export function parseContenders(text: string): ContenderKind[] {
  const wanted = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const w of wanted) {
    if (!(CONTENDER_KINDS as readonly string[]).includes(w))
      throw new Error(`--contenders: unknown "${w}"; choose from ${CONTENDER_KINDS.join(', ')}`);
  }
  if (wanted.length === 0) throw new Error('--contenders needs at least one contender');
  return CONTENDER_KINDS.filter((k) => wanted.includes(k));
}
