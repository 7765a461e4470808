/**
 * Small fetch wrappers for HTTP tests: JSON in, status + headers + parsed
 * body out, and an assertion for problem+json answers.
 */
import { expect } from 'vitest';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * @example
 * const { status, body } = await request(`${app.baseUrl}/api/products?limit=5`);
 */
export async function request<T = any>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as T, text };
}

/**
 * POSTs `body` as JSON (strings are sent as they are, for malformed input).
 *
 * @example
 * await postJson(`${app.baseUrl}/api/orders`, { customerId, items }, { 'idempotency-key': 'k1' });
 */
export function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  return request<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Asserts `answer` is a problem+json document with `status` and `code` and returns its body.
 *
 * @example
 * expectProblem(await request(url), 400, 'VALIDATION_FAILED');
 */
export function expectProblem(answer: Answer, status: number, code: string): Record<string, any> {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = answer.body as Record<string, any>;
  expect(body).toMatchObject({ type: `urn:holdfast:error:${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.instance).toBe('string');
  expect(body.requestId).toBe(answer.headers.get('x-request-id'));
  if (status === 503) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  return body;
}
