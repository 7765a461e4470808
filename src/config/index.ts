/**
 * The configuration's public face. One row per setting lives in
 * settings.ts; everything here is derived from it.
 *
 * @example
 * const config = loadConfig(readEnvironment()); // throws ConfigError listing every bad variable
 */
export { readEnvironment, type EnvSource } from './environment.ts';
export { ConfigError, describeConfig, loadConfig, readSetting, type ConfigProblem, type LoadOptions } from './loader.ts';
export type { ApiKey } from './kinds.ts';
export type { CacheSettings, Config, PoolSettings, PressureSettings, ProfilerSettings, RateLimitSettings, SettingValue } from './types.ts';
