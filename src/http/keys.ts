/**
 * The shapes of the keys inside pagination cursors, and guards for them.
 *
 * Keys travel as short arrays, not objects, to keep cursors (and the URLs
 * carrying them) short. The guards run after the signature check, so they
 * only catch cursors from an older format, never forgeries.
 */
import type { OrderKey } from '../store/customers.ts';
import type { ProductKey } from '../store/products.ts';
import type { TopProductKey } from '../store/reports.ts';

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && ISO_MICROS.test(value);
}

/** A `(createdAt, id)` position, as products and orders are listed. */
export type TimeKey = [createdAt: string, id: number];

/**
 * @example
 * cursors.decode('products', filters, cursor, isTimeKey) // ['2025-01-31T09:30:00.123456Z', 42]
 */
export function isTimeKey(key: unknown): key is TimeKey {
  return Array.isArray(key) && key.length === 2 && isTimestamp(key[0]) && isId(key[1]);
}

/**
 * @example
 * toTimeKey({ createdAt: '2025-01-31T09:30:00.123456Z', id: 42 }) // ['2025-01-31T09:30:00.123456Z', 42]
 */
export function toTimeKey(key: ProductKey | OrderKey): TimeKey {
  return [key.createdAt, key.id];
}

/** @example fromTimeKey(['2025-01-31T09:30:00.123456Z', 42]) // { createdAt: '…', id: 42 } */
export function fromTimeKey(key: TimeKey): ProductKey & OrderKey {
  return { createdAt: key[0], id: key[1] };
}

/** A position in the top-products ranking, with the window end it belongs to. */
export type RankKey = [until: string, units: number, productId: number];

/** @example isRankKey(['2025-01-31T09:30:00.123456Z', 12, 7]) // true */
export function isRankKey(key: unknown): key is RankKey {
  return Array.isArray(key) && key.length === 3 && isTimestamp(key[0]) && Number.isSafeInteger(key[1]) && key[1] >= 0 && isId(key[2]);
}

/** @example toRankKey({ until: '…', units: 12, productId: 7 }) // ['…', 12, 7] */
export function toRankKey(key: TopProductKey): RankKey {
  return [key.until, key.units, key.productId];
}

/** @example fromRankKey(['…', 12, 7]) // { until: '…', units: 12, productId: 7 } */
export function fromRankKey(key: RankKey): TopProductKey {
  return { until: key[0], units: key[1], productId: key[2] };
}
