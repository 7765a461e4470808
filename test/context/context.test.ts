import { describe, expect, it } from 'vitest';
import { backgroundContext, batchContext, requestContext } from '../../src/context/context.ts';

describe('requestContext', () => {
  it('names the request and carries one fresh query account for it', () => {
    const ctx = requestContext('req-7', 'GET /api/products/:id');
    expect(ctx.id).toBe('req-7');
    expect(ctx.route).toBe('GET /api/products/:id');
    expect(ctx.accounts).toHaveLength(1);
    expect(ctx.accounts[0]).toMatchObject({
      requestId: 'req-7',
      route: 'GET /api/products/:id',
      queries: 0,
      dbMs: 0,
      waitMs: 0,
      responded: false,
    });
  });

  it('gives every request an account of its own', () => {
    const a = requestContext('req-1', 'GET /x');
    const b = requestContext('req-2', 'GET /x');
    a.accounts[0]!.queries++;
    expect(b.accounts[0]!.queries).toBe(0);
  });

  it('charges no one when not accounted', () => {
    const ctx = requestContext('req-8', 'GET /admin/queries', { accounted: false });
    expect(ctx).toMatchObject({ id: 'req-8', route: 'GET /admin/queries' });
    expect(ctx.accounts).toEqual([]);
  });
});

describe('backgroundContext', () => {
  it('is named, charged to no one, and cannot be changed', () => {
    const ctx = backgroundContext('plan sampling');
    expect(ctx).toEqual({
      id: 'plan sampling',
      route: 'plan sampling',
      accounts: [],
      deadline: Infinity,
      signal: expect.any(AbortSignal),
      priority: 'low',
    });
    expect(Object.isFrozen(ctx)).toBe(true);
    expect(Object.isFrozen(ctx.accounts)).toBe(true);
  });
});

describe('batchContext', () => {
  it('is the context itself for a batch of one request, however many of its loads', () => {
    const a = requestContext('req-1', 'GET /api/products/:id');
    expect(batchContext([a])).toBe(a);
    expect(batchContext([a, a, a])).toBe(a);
  });

  it('carries each request’s account once, in the order the requests came', () => {
    const a = requestContext('req-1', 'GET /api/products/:id');
    const b = requestContext('req-2', 'GET /api/products/:id');
    const ctx = batchContext([a, b, a]);
    expect(ctx.accounts).toEqual([a.accounts[0], b.accounts[0]]);
    expect(ctx.accounts[0]).toBe(a.accounts[0]);
    expect(ctx.id).toBe('req-1,req-2');
    expect(ctx.route).toBe('GET /api/products/:id');
  });

  it('names no single route when its requests came through different ones', () => {
    const ctx = batchContext([requestContext('req-1', 'GET /a'), requestContext('req-2', 'GET /b')]);
    expect(ctx.route).toBe('batch');
  });

  it('flattens batches of batches, and background members add no account', () => {
    const a = requestContext('req-1', 'GET /a');
    const b = requestContext('req-2', 'GET /a');
    const c = requestContext('req-3', 'GET /a');
    const ctx = batchContext([batchContext([a, b]), backgroundContext('warm-up'), c, b]);
    expect(ctx.accounts).toEqual([a.accounts[0], b.accounts[0], c.accounts[0]]);
  });

  it('charges no one for an empty batch', () => {
    expect(batchContext([])).toMatchObject({ id: 'batch', route: 'batch', accounts: [] });
  });
});
