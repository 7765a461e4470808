/**
 * Statement fingerprints: SQL with its literals and parameters folded away,
 * so `WHERE id = 7` and `WHERE id = $1` are one statement in the statistics.
 *
 * Ours because the libraries that do this properly (libpg_query's
 * fingerprint, via `pg-query-native` or its WASM build) bring a native or
 * multi-megabyte parser for what is a lexer's job: the profiler only needs
 * tokens, not a parse tree. The lexer follows PostgreSQL's rules for what it
 * must recognise to stay correct (quoted strings with `''`, `E'…'` escapes,
 * `$tag$…$tag$` bodies, nested block comments, `::` casts, operators that
 * cannot end in `+`/`-`) and folds:
 * - string, numeric, dollar-quoted literals and `$n` parameters to `?`
 *   (a leading unary minus goes with the number);
 * - `IN (?, ?, …)` and `ARRAY[?, …]` lists of parameters to `(?, ...)`, and
 *   `VALUES (…), (…), …` to its first row followed by `, ...`, whatever
 *   their length, so a batch of 3 and a batch of 300 share a fingerprint;
 * - comments away, unquoted words to lower case (quoted identifiers keep
 *   theirs), whitespace to one canonical spacing, a trailing `;` away.
 * PostgreSQL's jsonb `?` operators read like folded values in the rendering;
 * that only affects reading, never grouping.
 *
 * Normalising costs microseconds; the hot path sees the same few texts
 * millions of times, so results are memoised by exact text in a small LRU
 * bounded by entry count and by total characters.
 *
 * @example
 * const fingerprints = createFingerprinter();
 * fingerprints.of("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'x'").text;
 * // 'select * from t where id in (?, ...) and name = ?'
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** One normalised statement. */
export interface Fingerprint {
  /** 16 hex digits of SHA-256 over the full normalised text. */
  id: string;
  /** The normalised text, cut at {@link MAX_TEXT} characters for display. */
  text: string;
  /** First word: `select`, `insert`, `with`, `begin`, … */
  command: string;
  /** A read that is safe and useful to EXPLAIN: one SELECT (or WITH … SELECT without writes). */
  explainable: boolean;
  /** BEGIN, COMMIT, SET, …: round trips, but never an N+1 of interest. */
  transactionControl: boolean;
}

/** Longest fingerprint text kept; the id always covers the whole text. */
export const MAX_TEXT = 2000;

/** Words after which an expression starts: a following `-` is unary, a following `(` is not a call. */
const EXPRESSION_KEYWORDS = new Set([
  'select',
  'from',
  'where',
  'and',
  'or',
  'not',
  'in',
  'is',
  'between',
  'like',
  'ilike',
  'similar',
  'when',
  'then',
  'else',
  'case',
  'values',
  'returning',
  'limit',
  'offset',
  'fetch',
  'by',
  'having',
  'on',
  'using',
  'as',
  'set',
  'join',
  'union',
  'intersect',
  'except',
  'exists',
  'with',
  'over',
  'filter',
  'lateral',
  'distinct',
  'return',
  'to',
  'do',
]);

const TRANSACTION_CONTROL = new Set([
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'savepoint',
  'release',
  'set',
  'reset',
  'show',
  'discard',
]);

const WRITES = new Set(['insert', 'update', 'delete', 'merge', 'copy', 'call', 'do', 'lock']);

const OPERATOR_CHARS = new Set('+-*/<>=~!@#%^&|`?');
const MULTI_OP_CHARS = new Set('~!@#%^&|`?');

type Kind = 'word' | 'ident' | 'value' | 'op' | 'punct';
interface Token {
  kind: Kind;
  text: string;
}

const VALUE: Token = { kind: 'value', text: '?' };
const ELLIPSIS: Token = { kind: 'word', text: '...' };

/**
 * Normalises `sql` (see the module comment). Pure; use a fingerprinter to memoise.
 *
 * @example
 * normalizeSql('select  *  FROM t where a = $1 -- hi'); // 'select * from t where a = ?'
 */
export function normalizeSql(sql: string): string {
  return render(collapseLists(lex(sql)));
}

/**
 * A sampled statement's sqlcommenter suffix (src/telemetry/db-spans.ts). It
 * is new for every trace, so keyed as is each sampled statement would miss
 * the memo, be lexed again and push a hot text out; like every comment it
 * folds away, so the memo keys by the text before it.
 */
const TRACEPARENT_SUFFIX = / \/\*traceparent='[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}'\*\/$/;

function memoKey(text: string): string {
  return text.endsWith("'*/") ? text.replace(TRACEPARENT_SUFFIX, '') : text;
}

export interface Fingerprinter {
  /** The fingerprint of `text`, memoised. */
  of(text: string): Fingerprint;
  /** Texts currently memoised. */
  readonly size: number;
}

/**
 * A memoising fingerprinter.
 *
 * @example
 * const fingerprints = createFingerprinter({ maxEntries: 1000 });
 * fingerprints.of('select 1').id; // e.g. 'f1a3…' (16 hex digits)
 */
export function createFingerprinter(options: { maxEntries?: number; maxChars?: number } = {}): Fingerprinter {
  const memo = new LRUCache<string, Fingerprint>({
    max: options.maxEntries ?? 1000,
    // Texts of bulk statements with inline literals are long and each one is
    // new: bound the memo by characters too, and don't keep giant ones at all.
    maxSize: options.maxChars ?? 4_000_000,
    maxEntrySize: 64_000,
    sizeCalculation: (value, key) => key.length + value.text.length + 64,
  });
  return {
    of: function fingerprintOf(text: string): Fingerprint {
      const key = memoKey(text);
      const known = memo.get(key);
      if (known !== undefined) return known;
      const fingerprint = fingerprintFromNormalized(normalizeSql(key));
      memo.set(key, fingerprint);
      return fingerprint;
    },
    get size() {
      return memo.size;
    },
  };
}

function fingerprintFromNormalized(normalized: string): Fingerprint {
  const id = createHash('sha256').update(normalized).digest('hex').slice(0, 16);
  const words = normalized.match(/[a-z_]+/g) ?? [];
  const command = words[0] ?? '';
  const hasWrite = words.some((w) => WRITES.has(w));
  const single = !normalized.includes(';');
  const explainable = single && (command === 'select' || (command === 'with' && !hasWrite));
  return {
    id,
    text: normalized.length > MAX_TEXT ? `${normalized.slice(0, MAX_TEXT)}…` : normalized,
    command,
    explainable,
    transactionControl: TRANSACTION_CONTROL.has(command),
  };
}

// ---- lexing ---------------------------------------------------------------

function isWordStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\x7f';
}

function isWordChar(c: string): boolean {
  return isWordStart(c) || (c >= '0' && c <= '9') || c === '$';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** True when the token ends an operand, so a `-` after it is binary. */
function endsOperand(t: Token | undefined): boolean {
  if (t === undefined) return false;
  if (t.kind === 'word') return !EXPRESSION_KEYWORDS.has(t.text);
  return t.kind === 'ident' || t.kind === 'value' || t.text === ')' || t.text === ']';
}

function lex(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (t: Token) => {
    // A unary minus (or plus) before a number belongs to the literal.
    if (t.kind === 'value') {
      const last = out[out.length - 1];
      if (last !== undefined && last.kind === 'op' && (last.text === '-' || last.text === '+') && !endsOperand(out[out.length - 2])) {
        out.pop();
      }
    }
    out.push(t);
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '-' && next === '-') {
      i = sql.indexOf('\n', i);
      if (i === -1) i = n;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (c === "'") {
      i = skipString(sql, i, false);
      push(VALUE);
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"');
      out.push({ kind: 'ident', text: sql.slice(i, end) });
      i = end;
    } else if (c === '$') {
      const param = /^\$\d+/.exec(sql.slice(i, i + 12));
      if (param !== null) {
        i += param[0].length;
        push(VALUE);
        continue;
      }
      const tag = /^\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag !== null) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
        push(VALUE);
      } else {
        out.push({ kind: 'op', text: '$' });
        i++;
      }
    } else if (isDigit(c) || (c === '.' && isDigit(next) && !endsOperandForDot(out[out.length - 1]))) {
      i = skipNumber(sql, i);
      push(VALUE);
    } else if (isWordStart(c)) {
      let end = i + 1;
      while (end < n && isWordChar(sql[end]!)) end++;
      const word = sql.slice(i, end).toLowerCase();
      // E'…', B'…', X'…', N'…' and U&'…' are string literals.
      if (sql[end] === "'" && (word === 'e' || word === 'b' || word === 'x' || word === 'n')) {
        i = skipString(sql, end, word === 'e');
        push(VALUE);
      } else if (word === 'u' && sql[end] === '&' && sql[end + 1] === "'") {
        i = skipString(sql, end + 1, false);
        push(VALUE);
      } else {
        out.push({ kind: 'word', text: word });
        i = end;
      }
    } else if (c === ':' && next === ':') {
      out.push({ kind: 'punct', text: '::' });
      i += 2;
    } else if (OPERATOR_CHARS.has(c)) {
      i = lexOperator(sql, i, out);
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  while (out.length > 0 && out[out.length - 1]!.text === ';') out.pop();
  return out;
}

/** A `.` after these is a qualifier (`t.a`, `(x).f`), elsewhere it may start a number (`.5`). */
function endsOperandForDot(t: Token | undefined): boolean {
  return t !== undefined && ((t.kind === 'word' && !EXPRESSION_KEYWORDS.has(t.text)) || t.kind === 'ident' || t.text === ')');
}

/** PostgreSQL's operator rule: no `--` or `/*` inside, and no trailing `+`/`-` unless it has one of ~!@#%^&|`?. */
function lexOperator(sql: string, start: number, out: Token[]): number {
  let end = start;
  while (end < sql.length && OPERATOR_CHARS.has(sql[end]!)) {
    if ((sql[end] === '-' && sql[end + 1] === '-') || (sql[end] === '/' && sql[end + 1] === '*')) break;
    end++;
  }
  if (end === start) end = start + 1; // a lone comment opener is handled by the caller; never stall
  let op = sql.slice(start, end);
  if (op.length > 1 && ![...op].some((ch) => MULTI_OP_CHARS.has(ch))) {
    while (op.length > 1 && (op.endsWith('+') || op.endsWith('-'))) op = op.slice(0, -1);
  }
  out.push({ kind: 'op', text: op });
  return start + op.length;
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** From the opening quote at `start` to just past the closing one. */
function skipString(sql: string, start: number, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === "'") {
      if (sql[i + 1] === "'") i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

function skipNumber(sql: string, start: number): number {
  const match = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/.exec(
    sql.slice(start, start + 400),
  );
  return start + (match === null ? 1 : match[0].length);
}

// ---- folding lists ----------------------------------------------------------

/** Index just past the bracket that closes the one at `open`, or -1. */
function closing(tokens: Token[], open: number): number {
  const o = tokens[open]!.text;
  const c = o === '(' ? ')' : ']';
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (tokens[i]!.kind !== 'punct') continue;
    if (t === o) depth++;
    else if (t === c && --depth === 0) return i + 1;
  }
  return -1;
}

/** `( ? [::type] , ? … )` with nothing but parameters and casts inside. */
function isValueList(tokens: Token[], open: number, end: number): boolean {
  let expectValue = true;
  for (let i = open + 1; i < end - 1; i++) {
    const t = tokens[i]!;
    if (expectValue) {
      if (t.kind !== 'value') return false;
      expectValue = false;
    } else if (t.text === ',') {
      expectValue = true;
    } else if (!(t.text === '::' || t.kind === 'word' || t.text === '[' || t.text === ']' || t.text === '.')) {
      return false;
    }
  }
  return !expectValue;
}

function collapseLists(tokens: Token[]): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const open = tokens[i + 1];
    if (t.kind === 'word' && (t.text === 'in' || t.text === 'array') && open !== undefined && (open.text === '(' || open.text === '[')) {
      const end = closing(tokens, i + 1);
      if (end !== -1 && isValueList(tokens, i + 1, end)) {
        const close = tokens[end - 1]!;
        out.push(t, open, VALUE, { kind: 'punct', text: ',' }, ELLIPSIS, close);
        i = end;
        continue;
      }
    }
    if (t.kind === 'word' && t.text === 'values' && open?.text === '(') {
      const end = closing(tokens, i + 1);
      if (end !== -1) {
        out.push(t, ...collapseLists(tokens.slice(i + 1, end)));
        let j = end;
        while (tokens[j]?.text === ',' && tokens[j + 1]?.text === '(') {
          const rowEnd = closing(tokens, j + 1);
          if (rowEnd === -1) break;
          j = rowEnd;
        }
        out.push({ kind: 'punct', text: ',' }, ELLIPSIS);
        i = j;
        continue;
      }
    }
    out.push(t);
    i++;
  }
  return out;
}

// ---- rendering --------------------------------------------------------------

const NO_SPACE_BEFORE = new Set([',', ')', ']', ';', '.', '::']);
const NO_SPACE_AFTER = new Set(['(', '[', '.', '::']);

function render(tokens: Token[]): string {
  let s = '';
  let prev: Token | undefined;
  for (const t of tokens) {
    if (prev !== undefined && spaced(prev, t)) s += ' ';
    s += t.text;
    prev = t;
  }
  return s;
}

function spaced(prev: Token, t: Token): boolean {
  if (NO_SPACE_BEFORE.has(t.text) && t.kind === 'punct') return false;
  if (NO_SPACE_AFTER.has(prev.text) && prev.kind === 'punct') return false;
  if (t.text === '(' && t.kind === 'punct') {
    // A call or a column list: `count(*)`, `t(a, b)`; after a keyword, a group.
    return !((prev.kind === 'word' && !EXPRESSION_KEYWORDS.has(prev.text)) || prev.kind === 'ident');
  }
  if (t.text === '[' && t.kind === 'punct')
    return !(prev.kind === 'word' || prev.kind === 'ident' || prev.kind === 'value' || prev.text === ')' || prev.text === ']');
  return true;
}
