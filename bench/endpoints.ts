/**
 * The endpoints the bench measures, and the path each contender serves them
 * on. Deep pages compare the two ways to reach page N: Holdfast's signed
 * keyset cursor (and the floor peer's raw keyset), against OFFSET in the
 * peers, whose cost grows with N.
 */

/**
 * Every endpoint the bench knows, in report order.
 *
 * @example
 * const id: EndpointId = 'deep-offset';
 */
export const ENDPOINT_IDS = ['health', 'product', 'orders', 'page1', 'deep', 'deep-offset'] as const;
/** @example const id: EndpointId = 'product'; */
export type EndpointId = (typeof ENDPOINT_IDS)[number];

/**
 * Shorthands `--only` accepts beside the ids.
 *
 * @example
 * ENDPOINT_ALIASES.pages; // ['page1', 'deep', 'deep-offset']
 */
export const ENDPOINT_ALIASES: Readonly<Record<string, readonly EndpointId[]>> = Object.freeze({
  pages: ['page1', 'deep', 'deep-offset'],
  all: ENDPOINT_IDS,
});

/** @example endpointTitle('deep', 5000); // 'product page 5,000 (keyset)' */
export function endpointTitle(id: EndpointId, deepPage: number): string {
  const n = deepPage.toLocaleString('en-US');
  return {
    health: 'health',
    product: 'product by id',
    orders: 'customer orders',
    page1: 'product page 1',
    deep: `product page ${n} (keyset)`,
    'deep-offset': `product page ${n} (OFFSET)`,
  }[id];
}

/**
 * The servers the bench starts.
 *
 * @example
 * const kind: ServerKind = 'fastify-pg';
 */
export type ServerKind = 'holdfast' | 'fastify-pg' | 'express-naive' | 'fastify-constant';

/**
 * Where page N starts: the key of the last row of page N−1, and the same
 * position as an OFFSET.
 *
 * @example
 * const deep: DeepPage = { page: 5000, pageSize: 20, offset: 99_980, after: { createdAt: '2026-…Z', id: 21 }, holdfastCursor: 'WyIy….abc' };
 */
export interface DeepPage {
  page: number;
  pageSize: number;
  offset: number;
  after: { createdAt: string; id: number };
  /** A cursor Holdfast accepts for that position (signed with the bench's CURSOR_SECRET). */
  holdfastCursor: string;
}

/**
 * The path template `kind` serves `endpoint` on, or undefined when it has no such route.
 *
 * @example
 * pathFor('express-naive', 'page1', deep); // '/api/products?limit=20&offset=0'
 */
export function pathFor(kind: ServerKind, endpoint: EndpointId, deep: DeepPage): string | undefined {
  const size = deep.pageSize;
  const database = kind !== 'fastify-constant';
  switch (endpoint) {
    case 'health':
      return '/api/health';
    case 'product':
      return database ? '/api/products/{product}' : undefined;
    case 'orders':
      return database ? `/api/customers/{customer}/orders?limit=${size}` : undefined;
    case 'page1':
      return kind === 'express-naive' ? `/api/products?limit=${size}&offset=0` : database ? `/api/products?limit=${size}` : undefined;
    case 'deep':
      if (kind === 'holdfast') return `/api/products?limit=${size}&cursor=${encodeURIComponent(deep.holdfastCursor)}`;
      if (kind === 'fastify-pg') return `/api/products?limit=${size}&after=${encodeURIComponent(deep.after.createdAt)},${deep.after.id}`;
      return undefined;
    case 'deep-offset':
      return kind === 'fastify-pg' || kind === 'express-naive' ? `/api/products?limit=${size}&offset=${deep.offset}` : undefined;
  }
}

/**
 * `--only` parsed: ids and aliases, in canonical order.
 *
 * @example
 * parseEndpoints('product,health'); // ['health', 'product']
 */
export function parseEndpoints(text: string): EndpointId[] {
  const wanted = new Set<EndpointId>();
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const alias = ENDPOINT_ALIASES[part];
    if (alias !== undefined) alias.forEach((id) => wanted.add(id));
    else if ((ENDPOINT_IDS as readonly string[]).includes(part)) wanted.add(part as EndpointId);
    else
      throw new Error(`--only: unknown endpoint "${part}"; choose from ${[...ENDPOINT_IDS, ...Object.keys(ENDPOINT_ALIASES)].join(', ')}`);
  }
  if (wanted.size === 0) throw new Error('--only needs at least one endpoint');
  return ENDPOINT_IDS.filter((id) => wanted.has(id));
}
