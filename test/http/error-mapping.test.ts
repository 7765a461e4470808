import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.ts';
import { toAppError } from '../../src/http/error-mapping.ts';

function pgError(code: string, message = 'boom'): Error {
  const err = new pg.DatabaseError(message, 0, 'error');
  err.code = code;
  return err;
}

describe('toAppError', () => {
  it('passes AppErrors through unchanged', () => {
    const err = new AppError('OUT_OF_STOCK', 'none left');
    expect(toAppError(err)).toBe(err);
  });

  it.each([
    ['22P02', 'VALIDATION_FAILED', 400],
    ['22003', 'VALIDATION_FAILED', 400],
    ['22021', 'VALIDATION_FAILED', 400],
    ['23502', 'VALIDATION_FAILED', 400],
    ['23503', 'UNKNOWN_REFERENCE', 422],
    ['23505', 'CONFLICT', 409],
    ['23514', 'CONFLICT', 409],
    ['40001', 'TRANSACTION_CONFLICT', 503],
    ['40P01', 'TRANSACTION_CONFLICT', 503],
    ['53300', 'DB_UNAVAILABLE', 503],
    ['25006', 'DB_UNAVAILABLE', 503],
  ])('maps SQLSTATE %s to %s', (sqlstate, code, status) => {
    const mapped = toAppError(pgError(sqlstate, 'Key (email)=(secret@example.com) already exists'));
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
    // The driver's message can carry row values: it stays on the server.
    expect(mapped.message).not.toMatch(/secret@example.com/);
    if (status === 503) expect(mapped.extras.retryAfterSeconds).toBe(1);
  });

  it('maps an unknown SQLSTATE and a plain Error to INTERNAL with a generic message', () => {
    for (const err of [pgError('42P01', 'relation "orders" does not exist'), new Error('undefined is not a function')]) {
      const mapped = toAppError(err);
      expect(mapped.code).toBe('INTERNAL');
      expect(mapped.message).not.toMatch(/orders|undefined/);
      expect(mapped.cause).toBe(err);
    }
  });

  it('maps Fastify request errors by code, and names the field of a validation error', () => {
    const validation = Object.assign(new Error('body/items/0 must have required property'), {
      code: 'FST_ERR_VALIDATION',
      statusCode: 400,
      validationContext: 'body',
      validation: [{ instancePath: '/items/0', keyword: 'required', params: { missingProperty: 'quantity' }, message: 'x' }],
    });
    expect(toAppError(validation)).toMatchObject({ code: 'VALIDATION_FAILED', extras: { field: 'body.items[0].quantity' } });
    const tooLarge = Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(toAppError(tooLarge).code).toBe('PAYLOAD_TOO_LARGE');
    const other = Object.assign(new Error('weird'), { code: 'FST_ERR_SOMETHING_NEW', statusCode: 400 });
    expect(toAppError(other).code).toBe('VALIDATION_FAILED');
    // A 5xx from Fastify is ours, not the client's.
    const internal = Object.assign(new Error('oops'), { code: 'FST_ERR_SOMETHING', statusCode: 500 });
    expect(toAppError(internal).code).toBe('INTERNAL');
  });
});
