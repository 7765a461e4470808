import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { RULES } from '../helpers/prometheus.ts';

/** What Grafana needs to import a dashboard, and what our queries may name. */
interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
  targets: { expr: string; refId: string }[];
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/holdfast.json', import.meta.url), 'utf8')) as Dashboard;
const recorded = new Set([...readFileSync(RULES, 'utf8').matchAll(/record: (\S+)/g)].map((m) => m[1]!));
// Exported only with DATABASE_REPLICA_URLS set, which this app has not (test/db/replicas/replica-set.test.ts sees it).
const PENDING = new Set(['holdfast_db_replica_lag_seconds']);

/** Every metric or recorded series a PromQL expression names. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*[{[)\s,/]|$)/g)]
    .map((m) => m[0])
    .filter((name) => name.startsWith('holdfast') || name.includes(':holdfast'));
}

let app: TestApp;
let exposed: Set<string>;
beforeAll(async () => {
  app = await startTestApp({ env: { CACHE_ENABLED: 'true' } });
  await fetch(`${app.baseUrl}/api/products/1`);
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
  // Sample names, and the families declared with no sample yet (a labelled counter before its first increment).
  exposed = new Set(
    text.split('\n').flatMap((line) => {
      const declared = /^# TYPE (\S+) (\w+)/.exec(line);
      if (declared) return declared[2] === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => declared[1] + s) : [declared[1]!];
      return line === '' || line.startsWith('#') ? [] : [/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]];
    }),
  );
});
afterAll(async () => {
  await app?.close();
});

describe('deploy/grafana/holdfast.json', () => {
  it('has what Grafana needs to import it: schema version, uid, unique panel ids, grid positions, a datasource variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.w, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.h, panel.title).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.datasource.uid, panel.title).toBe('${datasource}');
      expect(new Set(panel.targets.map((t) => t.refId)).size, panel.title).toBe(panel.targets.length);
    }
    const datasource = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('queries only metrics /metrics really exposes or the recording rules define', () => {
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [v.definition])),
    ];
    const named = new Set(exprs.flatMap(metricsIn));
    expect(named.size).toBeGreaterThan(15);
    const unknown = [...named].filter((name) => !exposed.has(name) && !recorded.has(name) && !PENDING.has(name));
    expect(unknown).toEqual([]);
  });

  it('also holds the recording rules to what /metrics exposes', () => {
    const rules = readFileSync(RULES, 'utf8');
    const exprs = [...rules.matchAll(/expr: (?:\|\n((?:\s{10,}.*\n)+)|(.*))/g)].map((m) => m[1] ?? m[2]!);
    const unknown = [...new Set(exprs.flatMap(metricsIn))].filter((n) => !exposed.has(n) && !recorded.has(n) && !PENDING.has(n));
    expect(unknown).toEqual([]);
  });
});
