import { describe, expect, it } from 'vitest';
import { createFingerprinter, MAX_TEXT, normalizeSql } from '../../src/profiler/fingerprint.ts';

describe('normalizeSql', () => {
  it.each([
    ['string and number literals', "SELECT * FROM t WHERE name = 'x' AND n = 42", 'select * from t where name = ? and n = ?'],
    ['$n placeholders', 'select * from t where a = $1 and b = $12', 'select * from t where a = ? and b = ?'],
    ['decimals, exponents, hex, underscores, leading dot', 'select 1.5, 2e10, 0x1F, 1_000, .5', 'select ?, ?, ?, ?, ?'],
    [
      'unary minus joins the number, binary minus stays',
      'select a-1, -3, c*-4 from t where d=-1',
      'select a - ?, ?, c * ? from t where d = ?',
    ],
    ['doubled quotes inside a string', "select 'it''s', 'b'", 'select ?, ?'],
    ['E-strings with backslash escapes', "select E'it\\'s -- not a comment'", 'select ?'],
    ['B, X, N and U& prefixed strings', "select B'101', X'ff', N'x', U&'d\\0061t'", 'select ?, ?, ?, ?'],
    ['dollar-quoted bodies', "select $$a 'b' $1$$, $tag$x$tag$", 'select ?, ?'],
    ['IN list of values collapses', 'select * from t where id in (1, 2, 3)', 'select * from t where id in (?, ...)'],
    ['IN list of one value collapses the same way', 'select * from t where id IN ($1)', 'select * from t where id in (?, ...)'],
    ['IN list with casts', 'select * from t where id in ($1::int, $2::int)', 'select * from t where id in (?, ...)'],
    ['IN subquery is kept', 'select 1 from t where id in (select id from u)', 'select ? from t where id in (select id from u)'],
    ['IN list of columns is kept', 'select 1 from t where ? in (a, b)', 'select ? from t where ? in (a, b)'],
    ['ARRAY literal collapses', 'select array[1, 2, 3]', 'select array[?, ...]'],
    [
      'VALUES rows collapse to the first',
      'INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING id',
      'insert into t(a, b) values (?, ?), ... returning id',
    ],
    ['a single VALUES row renders the same way', "insert into t(a,b) values (1,'x')", 'insert into t(a, b) values (?, ?), ...'],
    ['whitespace and case fold', 'SELECT\n\t*\n  FROM   T\nWHERE  A=$1', 'select * from t where a = ?'],
    ['quoted identifiers keep their case', 'SELECT "Foo"."Bar" FROM "Foo"', 'select "Foo"."Bar" from "Foo"'],
    ['line comments', 'select 1 -- trailing\nfrom t -- why', 'select ? from t'],
    ['nested block comments', 'select /* a /* b */ c */ 1 from t', 'select ? from t'],
    ['trailing semicolons', 'select 1;;', 'select ?'],
    ['casts and calls', "select x::int, count(*), now() - interval '1 day' from t", 'select x::int, count(*), now() - interval ? from t'],
    ['ANY over an array parameter', 'select * from t where id = ANY($1::bigint[])', 'select * from t where id = any(?::bigint[])'],
    ['row comparisons', '(created_at, id) < ($1::timestamptz, $2::bigint)', '(created_at, id) < (?::timestamptz, ?::bigint)'],
    ['operators are not split by comments', 'select 1 --x\n+ 2', 'select ? + ?'],
  ])('%s', (_label, sql, expected) => {
    expect(normalizeSql(sql)).toBe(expected);
  });

  it('gives the same text to the literal and the parameterised form of a statement', () => {
    expect(normalizeSql("select * from users where email = 'a@b.c' and id in (1,2)")).toBe(
      normalizeSql('SELECT * FROM users WHERE email = $1 AND id IN ($2, $3, $4)'),
    );
  });

  it('never keeps a literal value', () => {
    const sql = "select * from t where secret = 'hunter2' and pin = 4321 and note = $q$classified$q$";
    expect(normalizeSql(sql)).not.toMatch(/hunter2|4321|classified/);
  });
});

describe('createFingerprinter', () => {
  it('gives one 16-hex-digit id per normalised text', () => {
    const f = createFingerprinter();
    const a = f.of('select * from t where id = 1');
    const b = f.of('SELECT * FROM t WHERE id = $1');
    const c = f.of('select * from u where id = 1');
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
  });

  it('memoises by exact text in a bounded map', () => {
    const f = createFingerprinter({ maxEntries: 50 });
    const first = f.of('select 1');
    expect(f.of('select 1')).toBe(first);
    for (let i = 0; i < 1000; i++) f.of(`select ${i} from t${i}`);
    expect(f.size).toBeLessThanOrEqual(50);
  });

  it("keys a sampled statement's sqlcommenter text by the text before its comment", () => {
    const f = createFingerprinter({ maxEntries: 50 });
    const text = 'select * from products where id = any($1::bigint[])';
    const plain = f.of(text);
    for (let i = 0; i < 200; i++) {
      const traceId = i.toString(16).padStart(32, '0');
      expect(f.of(`${text} /*traceparent='00-${traceId}-00f067aa0ba902b7-01'*/`)).toBe(plain);
    }
    expect(f.size).toBe(1);
    // Any other trailing comment is part of the text, as before.
    expect(f.of(`${text} /*other*/`).id).toBe(plain.id);
    expect(f.size).toBe(2);
  });

  it('classifies statements for plan capture and the N+1 detector', () => {
    const f = createFingerprinter();
    expect(f.of('SELECT 1').explainable).toBe(true);
    expect(f.of('with x as (select 1) select * from x').explainable).toBe(true);
    expect(f.of('with x as (delete from t returning *) select * from x').explainable).toBe(false);
    expect(f.of('update t set a = 1').explainable).toBe(false);
    expect(f.of('select 1; drop table t').explainable).toBe(false);
    expect(f.of('BEGIN').transactionControl).toBe(true);
    expect(f.of('commit').transactionControl).toBe(true);
    expect(f.of('select 1').transactionControl).toBe(false);
    expect(f.of('insert into t values (1)').command).toBe('insert');
  });

  it('cuts very long texts for display but hashes all of them', () => {
    const f = createFingerprinter();
    const columns = Array.from({ length: 800 }, (_, i) => `column_${i}`).join(', ');
    const a = f.of(`select ${columns} from t`);
    const b = f.of(`select ${columns}, extra from t`);
    expect(a.text.length).toBeLessThanOrEqual(MAX_TEXT + 1);
    expect(a.id).not.toBe(b.id);
  });
});
