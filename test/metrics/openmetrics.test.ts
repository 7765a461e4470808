import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerHttpMetrics } from '../../src/metrics/http-metrics.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startOtlpReceiver } from '../telemetry/otlp-receiver.ts';

const apps: TestApp[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

describe('GET /metrics as OpenMetrics', () => {
  it('carries the sampled trace id as an exemplar on the latency histogram; Prometheus text stays the default', async () => {
    // Exemplars name traces: tracing on (to a local receiver), continuing the caller's traceparent.
    const receiver = await startOtlpReceiver();
    const app = await startTestApp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    apps.push(app);
    closers.push(() => receiver.close());
    await fetch(`${app.baseUrl}/api/products/1`, { headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` } });
    // An unsampled request leaves no exemplar.
    await fetch(`${app.baseUrl}/api/products/2`, { headers: { traceparent: `00-${'1'.repeat(32)}-00f067aa0ba902b7-00` } });

    const om = await fetch(`${app.baseUrl}/metrics`, { headers: { accept: OPENMETRICS } });
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const text = await om.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    const exemplars = text.split('\n').filter((l) => l.startsWith('holdfast_http_request_duration_seconds_bucket') && l.includes(' # {'));
    expect(exemplars.some((l) => l.includes(`trace_id="${TRACE}"`) && l.includes('route="/api/products/:id"'))).toBe(true);
    expect(text).not.toContain('1'.repeat(32));
    // Counters: the family named without _total, the sample with it.
    expect(text).toContain('# TYPE holdfast_db_pool_timeouts counter');
    expect(text).toMatch(/^holdfast_db_pool_timeouts_total \d/m);

    // The same registry afterwards still serves plain Prometheus text, counters intact, no exemplars.
    const plain = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(plain).toMatch(/^holdfast_db_pool_timeouts_total \d/m);
    expect(plain).not.toContain('trace_id');
    expect(plain).not.toContain('# EOF');
  });

  it('counts a 5xx sent with Retry-After as deliberate, apart from failures', async () => {
    const registry = new Registry();
    const server = Fastify();
    registerHttpMetrics(server, registry);
    server.get('/fail', async (_request, reply) => reply.code(500).send('x'));
    server.get('/refuse', async (_request, reply) => reply.code(503).header('Retry-After', '1').send('x'));
    await server.inject('/fail');
    await server.inject('/refuse');
    await server.inject('/refuse');
    const text = await registry.metrics();
    expect(text).toContain('holdfast_http_server_errors_total{route="/fail",deliberate="false"} 1');
    expect(text).toContain('holdfast_http_server_errors_total{route="/refuse",deliberate="true"} 2');
    await server.close();
  });
});
