/**
 * The typed `Config`, derived from the table in settings.ts: each row's
 * `path` becomes a (nested) field whose type is its kind's value type, so a
 * new row is a new typed field with no interface to edit.
 *
 * @example
 * type Port = Config['server']['port']; // number
 */
import type { Kind } from './kinds.ts';
import type { SETTINGS } from './settings.ts';

type Row = (typeof SETTINGS)[number];
type Leaf<R> = R extends { path: infer P extends string; kind: Kind<infer T> } ? { path: P; value: T } : never;
type Leaves = Leaf<Row>;

type Head<P extends string> = P extends `${infer H}.${string}` ? H : P;
type Below<E, H extends string> = E extends { path: `${H}.${infer Rest}`; value: infer V } ? { path: Rest; value: V } : never;

/** Nests `{ path: 'a.b', value: V }` entries into `{ a: { b: V } }`. */
type Nest<E extends { path: string; value: unknown }> = {
  -readonly [H in Head<E['path']>]: H extends E['path'] ? Extract<E, { path: H }>['value'] : Nest<Below<E, H>>;
};

/** One typed, frozen configuration for the whole process. */
export type Config = Nest<Leaves>;

/** The parsed value of one setting, by variable name. */
export type SettingValue<N extends Row['env']> = Extract<Row, { env: N }> extends { kind: Kind<infer T> } ? T : never;

export type PoolSettings = Config['pool'];
export type RateLimitSettings = Config['rateLimit'];
export type PressureSettings = Config['pressure'];
export type ProfilerSettings = Config['profiler'];
export type CacheSettings = Config['cache'];
