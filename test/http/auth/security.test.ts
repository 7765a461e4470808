import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { describe, expect, it } from 'vitest';
import { check, declaredSecurity, PUBLIC, requireKey } from '../../../src/http/auth/security.ts';

const reader = { name: 'r', scope: 'read' } as const;
const writer = { name: 'w', scope: 'write' } as const;

describe('check: OpenAPI security requirements against a verified key', () => {
  it('lets anyone through PUBLIC (the `{}` alternative)', () => {
    for (const identity of [null, reader, writer]) expect(check(PUBLIC, identity)).toEqual({ allowed: true });
  });

  it('needs a key whose scope grants read; write grants read', () => {
    expect(check(requireKey('read'), null)).toEqual({ allowed: false, missing: 'credential', scopes: ['read'] });
    expect(check(requireKey('read'), reader)).toEqual({ allowed: true });
    expect(check(requireKey('read'), writer)).toEqual({ allowed: true });
  });

  it('refuses a read key where write is required, as a scope problem, not a credential one', () => {
    expect(check(requireKey('write'), reader)).toEqual({ allowed: false, missing: 'scope', scopes: ['write'] });
    expect(check(requireKey('write'), null)).toEqual({ allowed: false, missing: 'credential', scopes: ['write'] });
    expect(check(requireKey('write'), writer)).toEqual({ allowed: true });
  });

  it('allows nothing for an empty list or an unknown scheme', () => {
    expect(check([], writer).allowed).toBe(false);
    expect(check([{ oauth: ['write'] }], writer).allowed).toBe(false);
  });
});

describe('declaredSecurity: a route cannot be public by omission', () => {
  const identify = fp(
    (app, _o, next) => {
      app.decorateRequest('apiKey', null);
      next();
    },
    { name: 'holdfast-api-key-identify' },
  );

  async function appWith(route: (app: ReturnType<typeof Fastify>) => void) {
    const app = Fastify();
    await app.register(identify);
    await app.register(declaredSecurity({ enforce: true }));
    route(app);
    return app;
  }

  it('stops the start when a route declares no security', async () => {
    await expect(appWith((app) => app.get('/customers', async () => ({})))).rejects.toThrow(/GET \/customers declares no schema.security/);
    await expect(appWith((app) => app.post('/orders', { schema: { hide: true } }, async () => ({})))).rejects.toThrow(
      /declares no schema.security/,
    );
  });

  it('accepts declared routes and hidden GETs, and enforces the declaration', async () => {
    const app = await appWith((a) => {
      a.get('/open', { schema: { security: PUBLIC as never } }, async () => ({ ok: true }));
      a.get('/private', { schema: { security: requireKey('read') as never } }, async () => ({ ok: true }));
      a.get('/doc', { schema: { hide: true } }, async () => ({ ok: true }));
    });
    expect((await app.inject('/open')).statusCode).toBe(200);
    expect((await app.inject('/doc')).statusCode).toBe(200);
    const refused = await app.inject('/private');
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="holdfast"');
    await app.close();
  });
});
