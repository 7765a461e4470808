/**
 * The served OpenAPI document is the contract (issue 13, finding 8): every
 * operation names who may call it, the server enforces exactly that, and a
 * typed client generated from it (openapi-typescript + openapi-fetch)
 * compiles a call to every operation, and refuses a wrong one.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { request } from '../helpers/http.ts';
import { API_KEYS_ENV, KEYS, smallStore, type SmallStore } from './helpers.ts';

const run = promisify(execFile);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  servers?: { url: string }[];
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
}

let app: TestApp;
let store: SmallStore;
let document: Document;
const operations: { method: string; path: string; op: Operation }[] = [];

beforeAll(async () => {
  app = await startTestApp({ env: { API_KEYS: API_KEYS_ENV } });
  store = await smallStore(app.pool);
  const res = await request(`${app.baseUrl}/api/openapi.json`);
  expect(res.status).toBe(200);
  document = res.body;
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op !== undefined) operations.push({ method, path, op });
    }
  }
});
afterAll(() => app?.close());

describe('the served document', () => {
  it('names a server and declares the bearer scheme', () => {
    expect(document.servers?.length).toBeGreaterThan(0);
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('gives every operation a unique operationId, its security, and a problem+json 4xx answer', () => {
    expect(operations.length).toBeGreaterThanOrEqual(8);
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, op } of operations) {
      const what = `${method} ${path}`;
      expect(op.operationId, what).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.security, what).toBeDefined();
      const clientErrors = Object.entries(op.responses).filter(([status]) => status.startsWith('4'));
      expect(clientErrors.length, what).toBeGreaterThan(0);
      for (const [, answer] of clientErrors) expect(Object.keys(answer.content ?? {}), what).toEqual(['application/problem+json']);
    }
  });

  it('declares a key for customer data and for writes, and none for the catalogue', () => {
    const declared = Object.fromEntries(operations.map(({ op }) => [op.operationId, op.security]));
    expect(declared).toMatchObject({
      getCustomer: [{ bearer: ['read'] }],
      listCustomerOrders: [{ bearer: ['read'] }],
      placeOrder: [{ bearer: ['write'] }],
      listProducts: [{}, { bearer: [] }],
      getProduct: [{}, { bearer: [] }],
      topProducts: [{}, { bearer: [] }],
    });
  });
});

describe('enforcement agrees with the document, operation by operation', () => {
  function call(method: string, path: string, headers: Record<string, string>) {
    const id = path.startsWith('/api/customers') ? store.customerId : store.productIds[0];
    const url = `${app.baseUrl}${path.replace('{id}', String(id))}`;
    if (method === 'post') {
      const body = JSON.stringify({ customerId: store.customerId, items: [{ productId: store.productIds[0], quantity: 1 }] });
      return request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    }
    return request(url, { method: method.toUpperCase(), headers });
  }

  it('answers 401 without a key exactly where a key is declared, 403 where a read key falls short', async () => {
    for (const { method, path, op } of operations) {
      const what = `${method} ${path}`;
      const open = op.security!.length === 0 || op.security!.some((r) => Object.keys(r).length === 0);
      const scopes = op.security!.flatMap((r) => r.bearer ?? []);
      const anonymous = await call(method, path, {});
      if (open) expect(anonymous.status, what).toBeLessThan(400);
      else expect(anonymous.status, what).toBe(401);
      const reader = await call(method, path, { authorization: `Bearer ${KEYS.reader}` });
      if (open || !scopes.includes('write')) expect(reader.status, what).toBeLessThan(400);
      else expect(reader.status, what).toBe(403);
      const writer = await call(method, path, { authorization: `Bearer ${KEYS.writer}` });
      expect(writer.status, what).toBeLessThan(400);
    }
  });
});

describe('a typed client generated from the served document', () => {
  const dir = resolve('test-artifacts', `contract-${process.pid}`);
  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const ast = await openapiTS(document as never);
    writeFileSync(join(dir, 'api.ts'), astToString(ast));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function compile(name: string, source: string): Promise<{ ok: boolean; output: string }> {
    const file = join(dir, name);
    writeFileSync(file, source);
    const tsc = resolve('node_modules/typescript/bin/tsc');
    const flags = [
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--allowImportingTsExtensions',
      '--skipLibCheck',
      '--types',
      'node',
    ];
    try {
      await run(process.execPath, [tsc, ...flags, file], { cwd: resolve('.') });
      return { ok: true, output: '' };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }

  const header = `import createClient from 'openapi-fetch';
import type { operations, paths } from './api.ts';
const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5001', headers: { authorization: 'Bearer k' } });
`;

  it('compiles a call to each operation, with typed answers; the call list must cover every operationId', async () => {
    const source = `${header}
const calls = {
  getHealth: () => client.GET('/api/health'),
  getReady: () => client.GET('/api/ready'),
  listProducts: () => client.GET('/api/products', { params: { query: { category: 'tools', q: 'ham' } } }),
  getProduct: () => client.GET('/api/products/{id}', { params: { path: { id: 7 } } }),
  getCustomer: () => client.GET('/api/customers/{id}', { params: { path: { id: 1 } } }),
  listCustomerOrders: () => client.GET('/api/customers/{id}/orders', { params: { path: { id: 1 }, query: { limit: 5 } } }),
  placeOrder: () =>
    client.POST('/api/orders', {
      params: { header: { 'idempotency-key': 'order-1' } },
      body: { customerId: 1, items: [{ productId: 7, quantity: 2 }] },
    }),
  topProducts: () => client.GET('/api/reports/top-products', { params: { query: { days: 30 } } }),
} satisfies Record<keyof operations, () => Promise<unknown>>;

export async function typedAnswers(): Promise<string> {
  const customer = await calls.getCustomer();
  const email: string | undefined = customer.data?.email;
  const refused: string | undefined = customer.error?.code;
  const order = await calls.placeOrder();
  const total: number | undefined = order.data?.totalCents;
  return \`\${email} \${refused} \${total}\`;
}
`;
    const result = await compile('calls.ts', source);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);

  it('refuses to compile calls the contract does not allow', async () => {
    const wrong = [
      `client.POST('/api/orders', { body: { items: [{ productId: 7, quantity: 2 }] } });`,
      `client.GET('/api/customers/{id}', { params: { path: { id: 'one' } } });`,
      `client.GET('/api/customers');`,
    ];
    const result = await compile('wrong.ts', `${header}\n${wrong.map((line) => `void ${line}`).join('\n')}\n`);
    expect(result.ok).toBe(false);
    // One error per wrong call (each on its own line, after the four header lines).
    for (const [i] of wrong.entries()) expect(result.output).toContain(`wrong.ts(${5 + i},`);
  }, 60_000);
});
