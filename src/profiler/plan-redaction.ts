/**
 * Takes the values back out of a captured plan.
 *
 * Plans are captured with the statement's real parameters, because a plan
 * for `$1` is a generic plan and may not be the one that ran slow. PostgreSQL
 * then prints those values into conditions (`Index Cond: (email = 'a@b'::text)`),
 * and the plan ends up on /admin/queries, which gets pasted into tickets.
 * So every string in the plan except known identity fields (node type,
 * relation, index, alias, …) has its quoted literals replaced by `'?'` and
 * its free-standing numbers by `?`. JSON numbers (costs, rows, widths) are
 * the planner's, not the caller's, and stay.
 *
 * @example
 * redactPlan([{ Plan: { 'Node Type': 'Index Scan', 'Index Cond': "(email = 'a@b'::text)" } }]);
 * // [{ Plan: { 'Node Type': 'Index Scan', 'Index Cond': "(email = '?'::text)" } }]
 */

/** Fields that name things and never hold a value from the statement. */
const IDENTITY_FIELDS = new Set([
  'Node Type',
  'Parent Relationship',
  'Subplan Name',
  'Relation Name',
  'Schema',
  'Alias',
  'Index Name',
  'CTE Name',
  'Function Name',
  'Join Type',
  'Strategy',
  'Partial Mode',
  'Scan Direction',
  'Operation',
  'Command',
  'Sort Method',
  'Sort Space Type',
  'Parallel Aware',
  'Async Capable',
  'Inner Unique',
]);

const QUOTED = /'(?:[^']|'')*'/g;
const NUMBER = /(?<![\w.$])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])/g;

/** A deep copy of `plan` with values redacted. */
export function redactPlan(plan: unknown): unknown {
  return walk(plan, undefined);
}

function walk(node: unknown, field: string | undefined): unknown {
  if (typeof node === 'string') return field !== undefined && IDENTITY_FIELDS.has(field) ? node : redactText(node);
  if (Array.isArray(node)) return node.map((item) => walk(item, field));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = walk(value, key);
    return out;
  }
  return node;
}

/**
 * @example
 * redactText("(price > 100) AND (name = 'x''y')"); // "(price > ?) AND (name = '?')"
 */
export function redactText(text: string): string {
  return text.replace(QUOTED, "'?'").replace(NUMBER, '?');
}
