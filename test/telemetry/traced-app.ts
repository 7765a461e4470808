/**
 * The service started with its telemetry sent to a fresh OTLP receiver: the
 * setup every suite that reads the service's spans or metrics shares.
 *
 * @example
 * let traced: TracedApp;
 * beforeAll(async () => { traced = await startTracedApp({ CACHE_ENABLED: 'true' }); });
 * afterAll(() => traced?.close());
 */
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';

export interface TracedApp {
  app: TestApp;
  receiver: OtlpReceiver;
  /** Stops the app, then the receiver. */
  close(): Promise<void>;
}

/**
 * Starts a receiver, then the app with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at
 * it and `env` on top (a function of the receiver where a setting needs its URL).
 *
 * @example
 * const { app, receiver } = await startTracedApp((r) => ({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${r.url}/v1/metrics` }));
 */
export async function startTracedApp(
  env: Record<string, string> | ((receiver: OtlpReceiver) => Record<string, string>) = {},
): Promise<TracedApp> {
  const receiver = await startOtlpReceiver();
  try {
    const extra = typeof env === 'function' ? env(receiver) : env;
    const app = await startTestApp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...extra } });
    return {
      app,
      receiver,
      close: async () => {
        try {
          await app.close();
        } finally {
          await receiver.close();
        }
      },
    };
  } catch (err) {
    await receiver.close();
    throw err;
  }
}
