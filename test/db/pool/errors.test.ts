import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors/app-error.ts';
import { DeadlineError } from '../../../src/async/deadline.ts';
import {
  databaseSilent,
  databaseUnreachable,
  describe as describeError,
  isConnectionLevel,
  isSilence,
  translate,
} from '../../../src/db/pool/errors.ts';

function pgError(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('translate', () => {
  it('turns a cancelled statement (57014) into QUERY_TIMEOUT and keeps the connection', () => {
    const verdict = translate(pgError('57014', 'canceling statement due to statement timeout'));
    expect(isAppError(verdict.error, 'QUERY_TIMEOUT')).toBe(true);
    expect(verdict.connectionLost).toBe(false);
  });

  it('turns a lost connection into DB_UNAVAILABLE and says the connection is gone, without touching anything', () => {
    for (const err of [pgError('ECONNRESET'), pgError('57P01'), new Error('Connection terminated unexpectedly')]) {
      const before = JSON.stringify(err);
      const verdict = translate(err);
      expect(isAppError(verdict.error, 'DB_UNAVAILABLE')).toBe(true);
      expect(verdict.connectionLost).toBe(true);
      expect((verdict.error as Error).cause).toBe(err);
      expect(JSON.stringify(err)).toBe(before);
    }
  });

  it('turns a write refused as read-only (25006, a demoted primary) into a retryable DB_UNAVAILABLE that names the host', () => {
    const verdict = translate(pgError('25006', 'cannot execute INSERT in a read-only transaction'));
    expect(isAppError(verdict.error, 'DB_UNAVAILABLE')).toBe(true);
    expect(verdict).toMatchObject({ connectionLost: false, hostDemoted: true });
  });

  it('passes a statement error through as it is, the connection kept', () => {
    const err = pgError('23505', 'duplicate key');
    expect(translate(err)).toEqual({ error: err, connectionLost: false });
  });
});

describe('isConnectionLevel', () => {
  it('is true for a translated or raw connection failure, false for a statement error', () => {
    expect(isConnectionLevel(translate(pgError('08006')).error)).toBe(true);
    expect(isConnectionLevel(pgError('ECONNREFUSED'))).toBe(true);
    expect(isConnectionLevel(pgError('42P01'))).toBe(false);
  });
});

describe('describe', () => {
  it('never carries a connection string', () => {
    expect(describeError(new Error('cannot reach postgres://app:secret@db:5432/app now'))).toBe('cannot reach <url> now');
  });
});

describe('isSilence', () => {
  it('is true when a bound of ours ran out (a statement or a connect unanswered), false for a reset or a refusal', () => {
    expect(isSilence(databaseSilent('a statement within 750 ms'))).toBe(true);
    expect(isSilence(databaseUnreachable(new DeadlineError('connect', 1000)))).toBe(true);
    expect(isSilence(databaseUnreachable(pgError('ECONNRESET')))).toBe(false);
    expect(isSilence(databaseUnreachable(pgError('ECONNREFUSED')))).toBe(false);
    expect(isSilence(pgError('57014'))).toBe(false);
  });
});
