import { describe, expect, it } from 'vitest';
import { batchContext, requestContext } from '../../src/context/context.ts';
import { DEFAULT_PRIORITY_TABLE, effectivePriority, parsePriorityTable, parseUrgency, routePriority } from '../../src/context/priority.ts';

describe('priority order', () => {
  const parsed = parsePriorityTable(DEFAULT_PRIORITY_TABLE);
  if (!parsed.ok) throw new Error(parsed.message);
  const table = parsed.value;

  it("gives routes the issue's default classes", () => {
    expect(routePriority(table, 'GET /metrics')).toBe('critical');
    expect(routePriority(table, 'POST /api/orders')).toBe('high');
    expect(routePriority(table, 'GET /api/products/:id')).toBe('normal');
    expect(routePriority(table, 'GET /api/products')).toBe('low');
    expect(routePriority(table, 'GET /api/reports/top-products')).toBe('low');
    expect(routePriority(table, 'GET /somewhere/else')).toBe('normal');
  });

  it('refuses a malformed table entry', () => {
    expect(parsePriorityTable('GET /x=urgent').ok).toBe(false);
    expect(parsePriorityTable('=low').ok).toBe(false);
  });

  it('lets RFC 9218 urgency lower a class, never raise it; malformed values are ignored', () => {
    expect(effectivePriority('high', 'u=0')).toBe('high');
    expect(effectivePriority('normal', 'u=0, i')).toBe('normal');
    expect(effectivePriority('high', 'u=4')).toBe('normal');
    expect(effectivePriority('normal', 'u=6')).toBe('low');
    expect(effectivePriority('critical', 'u=7')).toBe('low');
    expect(effectivePriority('normal', 'u=9')).toBe('normal');
    expect(effectivePriority('normal', 'u=x')).toBe('normal');
    expect(parseUrgency('i, u=5')).toBe(5);
    expect(parseUrgency(undefined)).toBeUndefined();
    expect(parseUrgency('u=')).toBeUndefined();
  });

  it('runs a batch at its most important member', () => {
    const a = requestContext('a', 'GET /api/products/:id', { priority: 'low' });
    const b = requestContext('b', 'GET /api/products/:id', { priority: 'high' });
    expect(batchContext([a, b]).priority).toBe('high');
    expect(batchContext([a, a]).priority).toBe('low');
  });
});
