/**
 * The weighted mix of paths a load test sends, with a fresh random id in
 * every request: hammering one product id would measure a cache (Holdfast's,
 * Postgres's buffer, the CPU's) rather than the service.
 */

import { createZipfSampler } from './zipf.ts';

/**
 * The named paths `--mix` chooses from; `{product}` and `{customer}` become random ids.
 *
 * @example
 * MIX_PATHS.product; // '/api/products/{product}'
 */
export const MIX_PATHS: Readonly<Record<string, string>> = Object.freeze({
  health: '/api/health',
  product: '/api/products/{product}',
  list: '/api/products?limit=20',
  orders: '/api/customers/{customer}/orders?limit=20',
});

/** @example const entry: MixEntry = { name: 'product', template: '/api/products/{product}', weight: 4 }; */
export interface MixEntry {
  name: string;
  template: string;
  weight: number;
}

/**
 * Highest id of each kind a placeholder may be replaced with (ids run from 1).
 *
 * @example
 * const ranges: IdRanges = { product: 10_000, customer: 2_000 };
 */
export interface IdRanges {
  product: number;
  customer: number;
}

/**
 * The default: the original's full test only hit health; real traffic mostly reads products.
 *
 * @example
 * parseMix(DEFAULT_MIX).length; // 4
 */
export const DEFAULT_MIX = 'health=1,product=4,list=2,orders=2';

/**
 * Parses `name=weight,…` over {@link MIX_PATHS}; weights are whole numbers ≥ 0, at least one > 0.
 *
 * @example
 * parseMix('health=1,product=4'); // [{ name: 'health', template: '/api/health', weight: 1 }, { name: 'product', … weight: 4 }]
 */
export function parseMix(text: string): MixEntry[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((part) => {
      const [name = '', weightText = '1'] = part.split('=');
      const template = MIX_PATHS[name];
      if (template === undefined) throw new Error(`--mix: unknown path "${name}"; choose from ${Object.keys(MIX_PATHS).join(', ')}`);
      if (!/^\d+$/.test(weightText)) throw new Error(`--mix: weight of ${name} must be a whole number, got "${weightText}"`);
      return { name, template, weight: Number(weightText) };
    });
  if (!entries.some((e) => e.weight > 0)) throw new Error('--mix needs at least one path with a weight above 0');
  return entries.filter((e) => e.weight > 0);
}

/**
 * `template` with each `{product}` / `{customer}` replaced by a uniform random id in 1..range.
 *
 * @example
 * expandPath('/api/products/{product}', { product: 100, customer: 10 }, () => 0.5); // '/api/products/51'
 */
export function expandPath(template: string, ranges: IdRanges, random: () => number = Math.random): string {
  return template.replace(/\{(product|customer)\}/g, (_, kind: keyof IdRanges) => String(1 + Math.floor(random() * ranges[kind])));
}

/**
 * A function returning the next request's path: an entry drawn by weight, then expanded.
 *
 * @example
 * const next = createPathPicker(parseMix('product=1'), { product: 10_000, customer: 2_000 });
 * next(); // '/api/products/4711'
 */
export function createPathPicker(
  entries: readonly MixEntry[],
  ranges: IdRanges,
  random: () => number = Math.random,
  ids: IdDistribution = 'uniform',
): () => string {
  if (ids === 'zipf') return createZipfPicker(entries, ranges, random);
  const total = entries.reduce((sum, e) => sum + e.weight, 0);
  const cumulative: number[] = [];
  let running = 0;
  for (const e of entries) cumulative.push((running += e.weight));
  if (entries.length === 1) {
    const only = entries[0]!.template;
    return () => expandPath(only, ranges, random);
  }
  return () => {
    const r = random() * total;
    let i = 0;
    while (i < cumulative.length - 1 && r >= cumulative[i]!) i++;
    return expandPath(entries[i]!.template, ranges, random);
  };
}

/**
 * How `{product}` and `{customer}` ids are drawn: `uniform` over the range,
 * or `zipf` (s = 1, id 1 the hottest) for a skewed workload.
 *
 * @example
 * const ids: IdDistribution = 'zipf';
 */
export type IdDistribution = 'uniform' | 'zipf';

/** {@link createPathPicker} with Zipf ids: the same entry choice, the ids drawn by {@link createZipfSampler}. */
function createZipfPicker(entries: readonly MixEntry[], ranges: IdRanges, random: () => number): () => string {
  const product = createZipfSampler(ranges.product, 1, random);
  const customer = createZipfSampler(ranges.customer, 1, random);
  const pickEntry = createPathPicker(
    entries.map((e, i) => ({ ...e, template: String(i) })),
    ranges,
    random,
  );
  return () =>
    entries[Number(pickEntry())]!.template.replace(/\{(product|customer)\}/g, (_, kind: keyof IdRanges) =>
      String(kind === 'product' ? product() : customer()),
    );
}

/**
 * The mix as reports show it.
 *
 * @example
 * describeMix(parseMix('health=1,product=4')); // 'health=1, product=4'
 */
export function describeMix(entries: readonly MixEntry[]): string {
  return entries.map((e) => `${e.name}=${e.weight}`).join(', ');
}
