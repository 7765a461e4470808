/**
 * Pressure thresholds for a service a suite starts, in process or spawned: a
 * busy CI machine stalls the event loop now and then, and only the suites
 * about pressure should see the service degrade or shed because of it.
 *
 * @example
 * spawn(process.execPath, args, { env: { ...BUSY_MACHINE_PRESSURE, ...env } });
 */
export const BUSY_MACHINE_PRESSURE: Readonly<Record<string, string>> = Object.freeze({
  EVENT_LOOP_DELAY_WARN_MS: '5000',
  EVENT_LOOP_DELAY_MAX_MS: '10000',
});
