/**
 * Builds the typed, frozen Config from the environment by walking the table
 * in settings.ts: each row is read (or its deprecated alias, with a warning),
 * trimmed, parsed by its kind, checked against the rows it names, and put at
 * its `path`. Every bad variable is reported at once, secrets masked.
 *
 * @example
 * const config = loadConfig(readEnvironment()); // throws ConfigError listing every bad variable
 */
import type { EnvSource } from './environment.ts';
import type { Kind } from './kinds.ts';
import { maskRaw, showValue } from './redact.ts';
import { SETTINGS, type SettingName, type SettingRow } from './settings.ts';
import type { Config, SettingValue } from './types.ts';

export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  message: string;
}

/** Raised when any setting is invalid; lists every bad variable. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value ?? '')}: ${p.message}`);
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Told about deprecated names in use; defaults to one line on stderr. */
  warn?: (message: string) => void;
}

const warnOnStderr = (message: string): void => {
  process.stderr.write(`holdfast: ${message}\n`);
};

interface Read {
  /** The variable the value came from (an alias, if that is what was set). */
  variable: string;
  raw: string | undefined;
}

/** The row's own variable, else its first alias that is set. */
function readRow(row: SettingRow, env: EnvSource, warn: (message: string) => void): Read {
  for (const alias of row.aliases ?? []) {
    if (env[alias] === undefined) continue;
    if (env[row.env] !== undefined) {
      warn(`${alias} is deprecated and ignored: ${row.env} is set`);
      continue;
    }
    warn(`${alias} is deprecated: use ${row.env}`);
    return { variable: alias, raw: env[alias] };
  }
  return { variable: row.env, raw: env[row.env] };
}

type Outcome = { ok: true; value: unknown } | { ok: false; problem: ConfigProblem };

function parseRow(row: SettingRow, read: Read): Outcome {
  const kind = row.kind as Kind<unknown>;
  if (read.raw === undefined) {
    if (row.default !== undefined) {
      const parsed = kind.parse(row.default);
      if (!parsed.ok) throw new Error(`settings.ts: the default of ${row.env} is invalid: ${parsed.message}`);
      return parsed;
    }
    if (kind.whenUnset === undefined) throw new Error(`settings.ts: ${row.env} has neither a default nor an optional kind`);
    return { ok: true, value: kind.whenUnset() };
  }
  const parsed = kind.parse(read.raw.trim());
  if (parsed.ok) return parsed;
  return { ok: false, problem: { variable: read.variable, value: maskRaw(row, read.raw), message: parsed.message } };
}

/**
 * Validates `env` against `table` and builds the frozen config, or throws
 * {@link ConfigError}. `table` is for tests; everything else uses SETTINGS.
 */
export function loadSettings(table: readonly SettingRow[], env: EnvSource, options: LoadOptions = {}): Record<string, unknown> {
  const warn = options.warn ?? warnOnStderr;
  const reads = new Map<string, Read>();
  const values = new Map<string, unknown>();
  const problems: ConfigProblem[] = [];
  for (const row of table) {
    const read = readRow(row, env, warn);
    reads.set(row.env, read);
    const outcome = parseRow(row, read);
    if (outcome.ok) values.set(row.env, outcome.value);
    else problems.push(outcome.problem);
  }
  // Rules between two settings run when both sides parsed, so one run still names every bad variable.
  for (const row of table) {
    if (row.atMost === undefined || !values.has(row.env) || !values.has(row.atMost)) continue;
    const mine = values.get(row.env) as number;
    const limit = values.get(row.atMost) as number;
    if (mine <= limit) continue;
    const other = table.find((r) => r.env === row.atMost)!;
    const shown = (r: SettingRow) => maskRaw(r, reads.get(r.env)!.raw);
    problems.push({ variable: reads.get(row.env)!.variable, value: shown(row), message: `must not exceed ${row.atMost} (${limit})` });
    if (row.blameBoth === true) {
      problems.push({ variable: reads.get(other.env)!.variable, value: shown(other), message: `must be at least ${row.env} (${mine})` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config: Record<string, unknown> = {};
  for (const row of table) {
    let value = values.get(row.env);
    if (row.capAt !== undefined) value = Math.min(value as number, values.get(row.capAt) as number);
    setPath(config, row.path, value);
  }
  return deepFreeze(config);
}

/** Validates `env` and builds the frozen config, or throws {@link ConfigError}. */
export function loadConfig(env: EnvSource, options: LoadOptions = {}): Config {
  return loadSettings(SETTINGS, env, options) as Config;
}

/**
 * One setting, validated, for tools that need only it (a bench peer's
 * DATABASE_URL) and should not fail on settings they never use.
 *
 * @example
 * const url = readSetting('DATABASE_URL', readEnvironment()); // string | undefined
 */
export function readSetting<N extends SettingName>(name: N, env: EnvSource, options: LoadOptions = {}): SettingValue<N> {
  const row: SettingRow = SETTINGS.find((r) => r.env === name)!;
  const outcome = parseRow(row, readRow(row, env, options.warn ?? warnOnStderr));
  if (!outcome.ok) throw new ConfigError([outcome.problem]);
  return outcome.value as SettingValue<N>;
}

/** The config as it may be logged or printed: secrets removed, URLs without passwords. */
export function describeConfig(config: Config, table: readonly SettingRow[] = SETTINGS): Record<string, unknown> {
  const dump: Record<string, unknown> = {};
  for (const row of table) setPath(dump, row.path, showValue(row, getPath(config, row.path)));
  return dump;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

function getPath(source: object, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], source);
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (v !== null && typeof v === 'object') deepFreeze(v);
  return Object.freeze(value);
}
