/**
 * The open-model generator's accounting (scripts/loadtest/open-model.ts),
 * against a local server whose delay and stall are known: latencies run from
 * each request's intended send time, so a stall shows in every request that
 * should have arrived during it, where a closed loop (the `service` view,
 * timed from the actual send) shows it once. Bounds are one-sided and
 * generous: a loaded machine only makes latencies longer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runOpenModel } from '../../scripts/loadtest/open-model.ts';

interface TestServer {
  url: string;
  /** What the server answered, by kind. */
  answered: { ok: number; refusedWithRetryAfter: number; refusedWithout: number };
  /** Holds every answer until `ms` from now. */
  stall(ms: number): void;
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Answers after `delayMs`: every 10th request 503 with Retry-After, every 25th 503 without, the rest 200. */
async function startServer(delayMs: number): Promise<TestServer> {
  const answered = { ok: 0, refusedWithRetryAfter: 0, refusedWithout: 0 };
  let n = 0;
  let stalledUntil = 0;
  const server = createServer((req, res) => {
    const i = ++n;
    const wait = Math.max(delayMs, stalledUntil - Date.now());
    setTimeout(() => {
      if (i % 10 === 0) {
        answered.refusedWithRetryAfter++;
        res.writeHead(503, { 'retry-after': '1' }).end();
      } else if (i % 25 === 0) {
        answered.refusedWithout++;
        res.writeHead(503).end();
      } else {
        answered.ok++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    }, wait);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, answered, stall: (ms) => (stalledUntil = Date.now() + ms), server };
}

describe('runOpenModel', () => {
  it('sends the whole schedule, counts every status, and times from the intended send', async () => {
    const target = await startServer(50);
    const result = await runOpenModel({ baseUrl: target.url, rate: 100, durationMs: 1_000, nextPath: () => '/x' });
    expect(result.intended).toBe(100);
    expect(result.sent + result.notSent).toBe(100);
    expect(result.responses + result.timeouts + result.socketErrors).toBe(result.sent);
    expect(result.status2xx).toBe(target.answered.ok);
    expect(result.status503WithRetryAfter).toBe(target.answered.refusedWithRetryAfter);
    expect(result.status503WithoutRetryAfter).toBe(target.answered.refusedWithout);
    expect(result.statusCodes['503']).toBe(target.answered.refusedWithRetryAfter + target.answered.refusedWithout);
    // The server waits 50 ms before every answer: no latency can be shorter.
    expect(result.success.p50).toBeGreaterThanOrEqual(45);
    expect(result.all.p50).toBeGreaterThanOrEqual(45);
    // …and the clock does not run from the start of the run (that would put the median near 500 ms).
    expect(result.success.p50).toBeLessThan(400);
  });

  it('a 200 ms stall shows in p99 of the intended-time latencies, while the send-time (closed-loop) view hides it', async () => {
    const target = await startServer(1);
    // One connection, like a closed loop of one user: during the stall the due requests queue in the client.
    const run = runOpenModel({ baseUrl: target.url, rate: 200, durationMs: 2_000, nextPath: () => '/x', maxInFlight: 1 });
    setTimeout(() => target.stall(200), 800);
    const result = await run;
    expect(result.sent + result.notSent).toBe(400);
    // About 40 requests were due during the stall; each waited for the rest of it: far above 1% of 400.
    expect(result.all.p99).toBeGreaterThanOrEqual(150);
    expect(result.all.max).toBeGreaterThanOrEqual(190);
    expect(result.late).toBeGreaterThanOrEqual(10);
    // Timed from the actual send, only the one request in flight during the stall saw it.
    expect(result.service.max).toBeGreaterThanOrEqual(150);
    expect(result.service.p99).toBeLessThan(result.all.p99);
  });

  it('an open model with enough connections keeps sending during the stall: the requests are on time, the answers late', async () => {
    const target = await startServer(1);
    const run = runOpenModel({ baseUrl: target.url, rate: 200, durationMs: 2_000, nextPath: () => '/x' });
    setTimeout(() => target.stall(200), 800);
    const result = await run;
    expect(result.sent).toBe(400);
    expect(result.all.p99).toBeGreaterThanOrEqual(150);
    expect(result.service.p99).toBeGreaterThanOrEqual(150);
  });
});
