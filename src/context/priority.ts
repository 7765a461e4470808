/**
 * Request priorities: which work is shed first under pressure.
 *
 * Why classes and not numbers: the operator's table names routes by class
 * (Google SRE's "criticality"), and a client may only move its own request
 * down, never up (RFC 9218's `Priority` header, urgency `u=0..7`, is a hint
 * from the client; an untrusted hint must not buy capacity).
 *
 * @example
 * const table = parsePriorityTable('POST /api/orders=high,GET /api/reports/*=low');
 * const base = routePriority(table, 'GET /api/reports/top');   // 'low'
 * effectivePriority('normal', 'u=6');                          // 'low'
 */

export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Higher is more important; critical is never shed. */
export function rank(p: Priority): number {
  return 3 - PRIORITIES.indexOf(p);
}

/** The more important of two priorities (a batch runs at its most important member's). */
export function highest(a: Priority, b: Priority): Priority {
  return rank(a) >= rank(b) ? a : b;
}

export interface PriorityRule {
  /** `METHOD /route/:pattern`, or a prefix ending in `*`. */
  readonly route: string;
  readonly priority: Priority;
}

/** The issue's defaults: health/readiness/metrics critical, writes high, point reads normal, lists/report/deep pages low. */
export const DEFAULT_PRIORITY_TABLE =
  'GET /health=critical,GET /ready=critical,GET /metrics=critical,GET /api/health=critical,GET /api/ready=critical,' +
  'POST /api/orders=high,POST *=high,PUT *=high,PATCH *=high,DELETE *=high,' +
  'GET /api/products/:id=normal,GET /api/orders/:id=normal,GET /api/customers/:id=normal,' +
  'GET /api/products=low,GET /api/reports/*=low';

/** Unlisted routes: a point read unless the table says otherwise. */
export const DEFAULT_PRIORITY: Priority = 'normal';

/**
 * Parses `route=class,…`; returns a message for the first bad entry.
 *
 * @example
 * parsePriorityTable('GET /api/products=low'); // { ok: true, value: [{ route: 'GET /api/products', priority: 'low' }] }
 */
export function parsePriorityTable(s: string): { ok: true; value: readonly PriorityRule[] } | { ok: false; message: string } {
  const rules: PriorityRule[] = [];
  for (const entry of s.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const at = entry.lastIndexOf('=');
    const route = entry.slice(0, at).trim();
    const priority = entry
      .slice(at + 1)
      .trim()
      .toLowerCase();
    if (at <= 0 || route === '' || !(PRIORITIES as readonly string[]).includes(priority)) {
      return { ok: false, message: `bad entry "${entry}": expected METHOD /route=${PRIORITIES.join('|')}` };
    }
    rules.push({ route, priority: priority as Priority });
  }
  return { ok: true, value: rules };
}

/** The first exact match wins, then the longest matching `*` prefix, else {@link DEFAULT_PRIORITY}. */
export function routePriority(table: readonly PriorityRule[], route: string): Priority {
  const exact = table.find((r) => r.route === route);
  if (exact !== undefined) return exact.priority;
  let best: PriorityRule | undefined;
  for (const r of table) {
    if (!r.route.endsWith('*')) continue;
    const prefix = r.route.slice(0, -1);
    if (route.startsWith(prefix) && (best === undefined || prefix.length > best.route.length - 1)) best = r;
  }
  return best?.priority ?? DEFAULT_PRIORITY;
}

/**
 * RFC 9218 urgency from a `Priority` header value (structured-field
 * dictionary); undefined when absent or malformed (RFC 9218 §4: ignore it).
 */
export function parseUrgency(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  let urgency: number | undefined;
  for (const member of header.split(',')) {
    const m = /^\s*([a-z*][a-z0-9_.*-]*)(?:=([^;]*))?(?:;.*)?\s*$/.exec(member);
    if (m === null) return undefined;
    if (m[1] !== 'u') continue;
    if (m[2] === undefined || !/^[0-7]$/.test(m[2].trim())) return undefined;
    urgency = Number(m[2].trim()); // the last one wins, as in a structured dictionary
  }
  return urgency;
}

/** The urgency each class stands for; a header urgency above it lowers the class. */
const URGENCY_OF: Record<Priority, number> = { critical: 0, high: 1, normal: 3, low: 5 };

/**
 * The route's class, lowered (never raised) by a client's `Priority` header.
 *
 * @example
 * effectivePriority('high', 'u=0'); // 'high': a client cannot raise itself
 * effectivePriority('high', 'u=4'); // 'normal'
 */
export function effectivePriority(base: Priority, header: string | undefined): Priority {
  const u = parseUrgency(header);
  if (u === undefined || u <= URGENCY_OF[base]) return base;
  const lowered: Priority = u >= URGENCY_OF.low ? 'low' : u >= URGENCY_OF.normal ? 'normal' : 'high';
  return rank(lowered) < rank(base) ? lowered : base;
}
