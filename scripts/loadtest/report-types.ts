/**
 * The JSON report of `npm run loadtest`: everything the terminal table and
 * the HTML page show, so either can be rebuilt from it later.
 */
import type { OpenModelResult } from './open-model.ts';
import type { LevelResult } from './types.ts';

/**
 * @example
 * const report: LoadtestReport = JSON.parse(readFileSync('reports/loadtest-….json', 'utf8'));
 * report.levels.map((l) => l.client.reqPerSec);
 */
export interface LoadtestReport {
  kind: 'holdfast-loadtest';
  version: 1;
  mode: 'levels' | 'ab' | 'open';
  startedAt: string;
  finishedAt: string;
  target: {
    /** Base URL under test. */
    url: string;
    /** Whether the run started this server itself. */
    spawned: boolean;
    /** `embedded`, or the given database URL with its password masked. */
    database?: string;
    /** Environment given to the spawned server on top of the defaults. */
    serverEnv?: Record<string, string>;
  };
  options: {
    levels: number[];
    durationS: number;
    /** e.g. `health=1, product=4`, or the fixed `--path`. */
    mix: string;
    timeoutS: number;
    /** `--ab`: requests in total. */
    amount?: number;
    /** `--rate`: arrivals per second (open model). */
    rate?: number;
    /** `--ids`: how ids were drawn, when not uniform by default. */
    ids?: string;
  };
  machine: { node: string; platform: string; cpus: number };
  levels: LevelResult[];
  /** `--rate`: the open-model run (then `levels` is empty). */
  open?: OpenModelResult & { rssMb?: number };
}
