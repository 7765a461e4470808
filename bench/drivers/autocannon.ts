/**
 * autocannon as the bench's load driver where wrk is not installed (CI),
 * through the same level runner as `npm run loadtest`.
 */
import { runLevel } from '../../scripts/loadtest/run-level.ts';
import { createPathPicker } from '../../scripts/loadtest/mix.ts';
import type { ClientSample } from '../../scripts/loadtest/types.ts';
import type { DriverResult, HttpDriver } from './types.ts';

/**
 * @example
 * toDriverResult(sample).reqPerSec; // sample.reqPerSec
 */
export function toDriverResult(sample: ClientSample): DriverResult {
  return {
    requests: sample.responses,
    durationS: sample.durationS,
    reqPerSec: sample.reqPerSec,
    p50Ms: sample.latency.p50,
    p99Ms: sample.latency.p99,
    timeouts: sample.timeouts,
    socketErrors: sample.socketErrors,
    non2xx: sample.responses - sample.status2xx,
    statusCodes: sample.statusCodes,
  };
}

/**
 * @example
 * const driver = createAutocannonDriver();
 */
export function createAutocannonDriver(): HttpDriver {
  return {
    name: 'autocannon',
    describe: () => 'autocannon 9 (in the bench process)',
    run: async (spec) =>
      toDriverResult(
        await runLevel({
          baseUrl: spec.baseUrl,
          connections: spec.connections,
          durationMs: spec.durationMs,
          timeoutS: spec.timeoutS,
          nextPath: createPathPicker(
            [{ name: 'path', template: spec.template, weight: 1 }],
            spec.ranges,
            Math.random,
            spec.ids ?? 'uniform',
          ),
        }),
      ),
  };
}
