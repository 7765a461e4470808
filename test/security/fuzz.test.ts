/**
 * Property-based fuzzing of the running service (fast-check): generated
 * methods, paths, query strings, credentials, media types and bodies (order
 * shapes with wrong members, random JSON structures, garbage, deep nesting,
 * duplicate keys, bodies around the size limit). For every request:
 *
 * - never a 5xx;
 * - every 4xx is a problem document with a catalogue code, its status and
 *   the request id, and only the members problem documents may have;
 * - no error answer shows a stack frame, a source path, SQL or a driver
 *   message;
 * - a refused write leaves orders, order lines, idempotency keys and stock
 *   exactly as they were; and over the whole run, orders exist only for the
 *   201s the fuzzer saw.
 *
 * Bounded: 300 runs (FUZZ_RUNS to change), well under 20 s. A failure prints
 * fast-check's seed and path; FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES } from '../../src/errors/catalogue.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { API_KEYS_ENV, KEYS, smallStore, writeSnapshot, type SmallStore } from './helpers.ts';
import { TEST } from '../helpers/context.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const BODY_LIMIT = 4096;

/** What an error answer must never show. */
const INTERNALS = [
  /\bat [\w.$<>]+ \(/, // a stack frame
  /\.[cm]?[jt]s:\d+/, // a source position
  /node_modules|\/work\/|file:\/\//,
  /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
  /relation "|syntax error at|violates [\w ]*constraint|invalid input syntax/,
  /FST_ERR|ECONNREFUSED|DatabaseError/,
];

/** Members a problem document may have: the RFC 9457 core, ours, and the documented extras. */
const PROBLEM_MEMBERS = new Set([
  'type',
  'title',
  'status',
  'detail',
  'code',
  'instance',
  'requestId',
  'field',
  'retryAfterSeconds',
  'productId',
  'requested',
  'available',
  'customerId',
]);

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Percent-encodes any string, lone surrogates included (encodeURIComponent throws on those). */
function encode(text: string): string {
  // String.prototype.toWellFormed, which the ES2023 lib does not declare.
  return encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

interface Generated {
  method: string;
  path: string;
  query: string;
  authorization: string | undefined;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  body: string;
}

function requests(store: SmallStore): fc.Arbitrary<Generated> {
  const text = fc.oneof(
    fc.constantFrom(
      '',
      '0',
      '-1',
      '1.5',
      '1e3',
      '0x1f',
      '9007199254740993',
      '99999999999999999999',
      'null',
      'true',
      'NaN',
      '__proto__',
      'constructor',
      "' OR '1'='1",
      '; DROP TABLE orders; --',
      '\u0000',
      '💩',
      'Ünïcödé',
      '..',
      'a.b',
    ),
    fc.integer().map(String),
    fc.constantFrom(...store.productIds, store.customerId).map(String),
    fc.double().map(String),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ maxLength: 250 }),
  );
  // Raw percent sequences that are not valid encodings, or not valid UTF-8.
  const segment = fc.oneof(
    { weight: 5, arbitrary: text.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%00', '%E0%A4%A', '%C3%28', '%ED%A0%80', '%', '%zz', '..', '.') },
  );
  // Mostly real routes, so requests get past routing to auth, parsing and validation.
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constant('/api/orders') },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom('/api/products/', '/api/customers/'), segment, fc.constantFrom('', '', '/orders', '/', '/x'))
        .map(([a, b, c]) => `${a}${b}${c}`),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '/api/products',
        '/api/reports/top-products',
        '/api/health',
        '/api/ready',
        '/metrics',
        '/admin/queries',
        '/api/openapi.json',
        '/',
      ),
    },
    { weight: 1, arbitrary: fc.array(segment, { maxLength: 4 }).map((s) => `/api/${s.join('/')}`) },
    { weight: 1, arbitrary: fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join('/')}`) },
  );
  const key = fc.oneof(
    fc.constantFrom('limit', 'cursor', 'q', 'category', 'days', '__proto__', 'constructor', 'limit[]', 'q[0]'),
    text.map(encode),
  );
  const query = fc
    .array(fc.tuple(key, segment), { maxLength: 6 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
  const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });
  const any = fc.jsonValue({ maxDepth: 2 });
  const orderShaped = fc
    .record(
      {
        customerId: fc.oneof(fc.constant(store.customerId), any),
        items: fc.oneof(
          fc.array(
            fc.record(
              {
                productId: fc.oneof(fc.constantFrom(...store.productIds), any),
                quantity: fc.oneof(fc.integer({ min: -2, max: 1002 }), any),
                extra: any,
              },
              { requiredKeys: [] },
            ),
            { maxLength: 4 },
          ),
          any,
        ),
        note: any,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v));
  const body = fc.oneof(
    orderShaped,
    fc.json({ maxDepth: 4 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.integer({ min: 1, max: 40 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc
      .tuple(fc.constantFrom('customerId', 'items', 'a'), any, any)
      .map(([k, a, b]) => `{"customerId":${store.customerId},"${k}":${JSON.stringify(a)},"${k}":${JSON.stringify(b)}}`),
    fc.integer({ min: BODY_LIMIT - 100, max: BODY_LIMIT + 100 }).map((n) => JSON.stringify({ pad: 'x'.repeat(n) })),
  );
  return fc.record({
    method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    path,
    query,
    authorization: fc.option(
      fc.oneof(
        fc.constant(`Bearer ${KEYS.writer}`),
        fc.constant(`Bearer ${KEYS.reader}`),
        headerText.map((t) => `Bearer ${t}`),
        headerText,
      ),
      { nil: undefined },
    ),
    contentType: fc.option(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=latin1',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        '',
      ),
      { nil: undefined },
    ),
    idempotencyKey: fc.option(headerText, { nil: undefined }),
    body,
  });
}

let app: TestApp;
let store: SmallStore;
beforeAll(async () => {
  app = await startTestApp({
    env: {
      API_KEYS: API_KEYS_ENV,
      ADMIN_TOKEN: 'adm_fuzz_never_generated_0123',
      METRICS_TOKEN: 'met_fuzz_never_generated_0123',
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      // Shedding (503 OVERLOADED) on a busy test machine is not what this suite is about.
      EVENT_LOOP_DELAY_WARN_MS: '60000',
      EVENT_LOOP_DELAY_MAX_MS: '60000',
    },
  });
  store = await smallStore(app.pool);
});
afterAll(() => app?.close());

describe('fuzzed requests', () => {
  it(`never get a 5xx or leak internals, and refused writes change nothing (${RUNS} runs)`, async () => {
    let created = 0;
    const seen = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(requests(store), async (r) => {
        const headers: Record<string, string> = {};
        if (r.authorization !== undefined) headers.authorization = r.authorization;
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        const hasBody = r.method !== 'GET' && r.method !== 'HEAD';
        const before = WRITE_METHODS.has(r.method) ? await writeSnapshot(app.pool) : undefined;

        const res = await fetch(`${app.baseUrl}${r.path}${r.query}`, {
          method: r.method,
          headers,
          body: hasBody ? r.body : undefined,
          redirect: 'manual',
        });
        const text = await res.text();
        const what = `${r.method} ${r.path}${r.query} → ${res.status} ${text.slice(0, 300)}`;

        expect(res.status, what).toBeLessThan(500);
        const code = res.status >= 400 && r.method !== 'HEAD' ? (JSON.parse(text) as { code?: string }).code : undefined;
        const outcome = code === undefined ? String(res.status) : `${res.status} ${code}`;
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        if (res.status === 201 && res.headers.get('idempotent-replayed') === null) created++;
        if (res.status >= 400) {
          for (const pattern of INTERNALS) expect(text, what).not.toMatch(pattern);
          if (r.method !== 'HEAD') {
            expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
            const problem = JSON.parse(text) as Record<string, unknown>;
            expect(ERROR_CODES, what).toContain(problem.code);
            expect(problem.status, what).toBe(ERROR_CATALOGUE[problem.code as keyof typeof ERROR_CATALOGUE].status);
            expect(problem.status, what).toBe(res.status);
            expect(problem.requestId, what).toBe(res.headers.get('x-request-id'));
            expect(
              Object.keys(problem).filter((m) => !PROBLEM_MEMBERS.has(m)),
              what,
            ).toEqual([]);
          }
          if (before !== undefined) expect(await writeSnapshot(app.pool), what).toEqual(before);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const { rows } = await app.pool.query<{ n: string }>(TEST, { text: 'SELECT count(*) AS n FROM orders' });
    expect(Number(rows[0]!.n)).toBe(created);
    expect(performance.now() - started).toBeLessThan(20_000);
    // The generator reaches every layer: routing, auth, media types, parsing, validation, handlers.
    if (process.env.FUZZ_STATS !== undefined) console.log([...seen].sort((a, b) => b[1] - a[1]));
    for (const outcome of [
      '200',
      '404 ROUTE_NOT_FOUND',
      '401 UNAUTHORIZED',
      '415 UNSUPPORTED_MEDIA_TYPE',
      '400 BAD_JSON',
      '400 VALIDATION_FAILED',
    ]) {
      expect([...seen.keys()], outcome).toContain(outcome);
    }
  }, 60_000);
});
