import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.ts';
import { MAX_JSON_DEPTH, parseJsonBody } from '../../src/http/json-body.ts';

function refusal(text: string): AppError {
  try {
    parseJsonBody(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_JSON');
    return err as AppError;
  }
  throw new Error(`accepted: ${text}`);
}

describe('parseJsonBody', () => {
  it('parses ordinary documents, including keys repeated in different objects', () => {
    expect(parseJsonBody('{"customerId":1,"items":[{"productId":1,"quantity":2},{"productId":2,"quantity":1}]}')).toEqual({
      customerId: 1,
      items: [
        { productId: 1, quantity: 2 },
        { productId: 2, quantity: 1 },
      ],
    });
    expect(parseJsonBody('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toEqual({ a: { a: { a: 1 } }, b: [{ a: 1 }, { a: 2 }] });
    expect(parseJsonBody('[1,"a",null,true]')).toEqual([1, 'a', null, true]);
    expect(parseJsonBody(' "just a string" ')).toBe('just a string');
  });

  it('is not fooled by braces, quotes, commas or escapes inside strings', () => {
    expect(parseJsonBody('{"a":"{\\"a\\":1,","b":"}]","c":"\\\\"}')).toEqual({ a: '{"a":1,', b: '}]', c: '\\' });
    expect(parseJsonBody('{"x\\"y":1,"x":2}')).toEqual({ 'x"y': 1, x: 2 });
  });

  it('refuses a key repeated in one object, compared after unescaping', () => {
    expect(refusal('{"customerId":1,"customerId":2}').message).toMatch(/"customerId" twice/);
    refusal('{"items":[{"productId":1,"productId":2}]}');
    refusal('{"a":1,"\\u0061":2}');
    refusal('{"a" : 1 , "a" : 1}');
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH}, at once for a deep bomb`, () => {
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(() => parseJsonBody(ok)).not.toThrow();
    expect(refusal('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)).message).toMatch(/nested deeper than 16/);
    refusal('{"a":'.repeat(MAX_JSON_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_DEPTH + 1));
    const started = performance.now();
    refusal('['.repeat(1_000_000));
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses empty, malformed and prototype-poisoning bodies', () => {
    for (const text of [
      '',
      '   ',
      '{',
      '{"a":1,}',
      "{'a':1}",
      'NaN',
      '{"a":1}{"b":2}',
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{"x":1}}}',
    ]) {
      refusal(text);
    }
  });

  it('never echoes the body back in its message', () => {
    expect(refusal('{"password":"hunter2"').message).not.toContain('hunter2');
  });
});
