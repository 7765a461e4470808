/**
 * The `application/json` body parser: Fastify's rules (no empty body, no
 * prototype-poisoning keys, via secure-json-parse) plus two of our own,
 * both answered 400 BAD_JSON:
 *
 * - **No duplicate keys.** `JSON.parse` silently keeps the last of
 *   `{"customerId":1,"customerId":2}`, while other parsers keep the first or
 *   refuse. A proxy, WAF or audit log reading the same body may then see a
 *   different request than the one we execute (a parser differential), so an
 *   ambiguous body is refused instead of guessed at (RFC 8259 §4 leaves it
 *   undefined; RFC 7493 I-JSON forbids it). Keys are compared decoded, so
 *   `"a"` and `"\u0061"` are the same key.
 * - **Nesting at most {@link MAX_JSON_DEPTH} levels.** The deepest body the
 *   API accepts is 3 (order → items → item); anything far deeper is either a
 *   bug or an attempt to make a recursive consumer (a validator, a
 *   serialiser, a logger) run out of stack.
 *
 * A `charset` other than UTF-8 is refused with 415 UNSUPPORTED_MEDIA_TYPE
 * for the same reason as duplicate keys: the body is read as UTF-8 whatever
 * the header says, so a Latin-1 body would not mean what its sender meant.
 *
 * Both checks are one linear scan over the text *before* it is parsed, so a
 * megabyte of `[[[[…` is refused at the 17th bracket without building
 * anything. The scan does not validate JSON; whatever it lets through is
 * then parsed for real, and a syntax error there is BAD_JSON too.
 *
 * Why our own: secure-json-parse (which Fastify uses) only guards against
 * prototype poisoning, and no maintained parser reports duplicate keys
 * without replacing JSON.parse with a slower one for every body.
 */
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { AppError } from '../errors/app-error.ts';

/** Deepest nesting of objects and arrays a body may have. */
export const MAX_JSON_DEPTH = 16;

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function badJson(detail: string): AppError {
  return new AppError('BAD_JSON', detail);
}

/** Index of the quote closing the string that opens at `start`; -1 when unterminated. */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return -1;
}

/**
 * Throws BAD_JSON for a duplicate key or nesting deeper than the limit.
 * Returns quietly on malformed text: parsing reports that.
 */
function checkStructure(text: string, maxDepth: number): void {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (end === -1) return;
      const keys = open[open.length - 1];
      if (expectKey && keys instanceof Set) {
        const raw = text.slice(i + 1, end);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(`"${raw}"`) as string;
          } catch {
            return;
          }
        }
        if (keys.has(key)) throw badJson(`the body has the key ${JSON.stringify(key.slice(0, 64))} twice in one object`);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (open.length >= maxDepth) throw badJson(`the body is nested deeper than ${maxDepth} levels`);
      open.push(c === OPEN_OBJECT ? new Set() : null);
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
}

/**
 * Parses a JSON request body strictly, or throws AppError BAD_JSON.
 *
 * @example
 * parseJsonBody('{"customerId":1,"items":[]}'); // { customerId: 1, items: [] }
 * parseJsonBody('{"a":1,"a":2}');               // throws BAD_JSON (duplicate key)
 * parseJsonBody('{"__proto__":{}}');            // throws BAD_JSON (prototype poisoning)
 */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (text.trim() === '') throw badJson('the body is empty; send a JSON document');
  checkStructure(text, maxDepth);
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    // The parser's message quotes the body; the client has it already.
    throw badJson('the body is not valid JSON, or uses a forbidden key such as "__proto__"');
  }
}

/**
 * Replaces Fastify's JSON parser with {@link parseJsonBody}. The body limit
 * (BODY_LIMIT_BYTES) still applies: Fastify enforces it while reading.
 *
 * @example
 * useStrictJsonBodies(app);
 */
export function useStrictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, function parseJson(request, body, done) {
    try {
      // The body is read as UTF-8 whatever the header says; a body declared
      // in another charset would mean one thing to us and another to a proxy.
      const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies are UTF-8 (RFC 8259 §8.1): send charset=utf-8 or no charset');
      }
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
