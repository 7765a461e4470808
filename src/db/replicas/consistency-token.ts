/**
 * Consistency-Token: the WAL position of a client's write, handed back on
 * every write's answer so a later read (on any instance) can demand a
 * replica that has replayed at least that far.
 *
 * Signed with the cursor codec (src/http/cursor.ts) under its own scope, so
 * a client can neither forge a position nor pass a cursor off as a token:
 * either answers 400 BAD_CONSISTENCY_TOKEN.
 */
import { AppError } from '../../errors/app-error.ts';
import type { CursorCodec } from '../../http/cursor.ts';

export const CONSISTENCY_HEADER = 'consistency-token';
const SCOPE = 'consistency';
const NO_FILTERS = Object.freeze({});

/** `16/B374D848` (pg_lsn text) → 0x16B374D848n. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (match === null) throw new Error(`not a pg_lsn: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** 0x16B374D848n → `16/B374D848`. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

const isLsnText = (key: unknown): key is string => typeof key === 'string' && /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/.test(key);

export interface ConsistencyTokens {
  issue(lsn: bigint): string;
  /** Throws AppError BAD_CONSISTENCY_TOKEN for anything this service did not sign. */
  verify(token: string): bigint;
}

/**
 * @example
 * const tokens = createConsistencyTokens(createCursorCodec(config.cursorSecret));
 * reply.header('Consistency-Token', tokens.issue(lsn));
 * const ctx = { ...requestContext(id, route), consistency: tokens.verify(header) };
 */
export function createConsistencyTokens(codec: CursorCodec): ConsistencyTokens {
  return {
    issue: (lsn) => codec.encode(SCOPE, NO_FILTERS, formatLsn(lsn)),
    verify(token) {
      try {
        return parseLsn(codec.decode(SCOPE, NO_FILTERS, token, isLsnText));
      } catch (error) {
        throw new AppError(
          'BAD_CONSISTENCY_TOKEN',
          'the Consistency-Token was not issued by this service, or was altered',
          {
            field: 'header.consistency-token',
          },
          { cause: error },
        );
      }
    },
  };
}
