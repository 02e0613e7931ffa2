import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { float, ident, int, list, SqlLiteralError, str, tuples } from './clickhouse-sql.js';

// Reference reader: what ClickHouse's lexer does with a quoted string literal.
function unquote(lit: string): string {
  expect(lit.startsWith("'") && lit.endsWith("'")).toBe(true);
  const body = lit.slice(1, -1);
  const map: Record<string, string> = {
    '\\': '\\',
    "'": "'",
    '0': '\0',
    b: '\b',
    f: '\f',
    r: '\r',
    n: '\n',
    t: '\t',
  };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      out += map[body[++i]!]!;
    } else {
      expect(c).not.toBe("'"); // an unescaped quote would end the literal early
      out += c;
    }
  }
  return out;
}

describe('sql literals', () => {
  test('any string round-trips and never breaks out of its quotes', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => unquote(str(s)) === s));
    // fast-check builds its table of every code point for unit 'binary' on first use: ~4 s of CPU on a
    // loaded 2-core machine before the first of the 100 runs, which themselves take milliseconds
  }, 30_000);

  test('examples', () => {
    expect(str("it's")).toBe("'it\\'s'");
    expect(str('a\\b')).toBe("'a\\\\b'");
    expect(str("x'; DROP TABLE t; --")).toBe("'x\\'; DROP TABLE t; --'");
  });

  test('numbers', () => {
    expect(int(42)).toBe('42');
    expect(int(2n ** 60n)).toBe('1152921504606846976');
    expect(() => int(1.5)).toThrow(SqlLiteralError);
    expect(() => int(2 ** 60)).toThrow(SqlLiteralError);
    expect(float(1.25)).toBe('1.25');
    expect(() => float(Number.NaN)).toThrow(SqlLiteralError);
    expect(() => float(Number.POSITIVE_INFINITY)).toThrow(SqlLiteralError);
  });

  test('identifiers are validated, not escaped', () => {
    expect(ident('samples_v')).toBe('`samples_v`');
    for (const bad of ['', '1abc', 'a-b', 'a`b', 'db.t', 'x y'])
      expect(() => ident(bad)).toThrow(SqlLiteralError);
  });

  test('lists', () => {
    expect(list([1, 2], int)).toBe('(1, 2)');
    expect(() => list([], int)).toThrow(SqlLiteralError);
    expect(tuples([['d', "s'1"]])).toBe("(('d', 's\\'1'))");
  });
});
